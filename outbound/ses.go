package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// sesMaxSize is the largest raw message SES v2 takes (40 MB).
const sesMaxSize = 40 << 20

// sesAPI is the one call of the SES v2 client we use (tests fake it).
type sesAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES v2 (SendEmail with Raw content). The
// message is sent as signed by us; SES may add its own DKIM signature.
type SES struct {
	api    sesAPI
	region string
}

// NewSES makes an SES transport for region with credentials from the
// standard AWS chain (environment, shared files, IAM role). It does not
// contact AWS.
func NewSES(ctx context.Context, region string) (*SES, error) {
	if region == "" {
		return nil, errors.New("ses: region is required")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("ses: loading AWS configuration: %w", err)
	}
	return &SES{api: sesv2.NewFromConfig(cfg), region: region}, nil
}

// Region is the SES region sent to.
func (t *SES) Region() string { return t.region }

// Deliver sends the message once for all of env.To; SES accepts or
// refuses the whole message.
func (t *SES) Deliver(ctx context.Context, env Envelope, body Body) []Result {
	mta := "email." + t.region + ".amazonaws.com"
	if body.Size() > sesMaxSize {
		return allResults(env.To, Permanent, 552, "5.3.4", mta, "message of %d bytes exceeds the SES limit of %d", body.Size(), sesMaxSize)
	}
	data, err := io.ReadAll(body.Reader())
	if err != nil {
		return allResults(env.To, Temporary, 0, codeOtherTemp, mta, "reading the message: %v", err)
	}
	in := &sesv2.SendEmailInput{
		Destination: &types.Destination{ToAddresses: env.To},
		Content:     &types.EmailContent{Raw: &types.RawMessage{Data: data}},
	}
	if env.From != "" {
		in.FromEmailAddress = aws.String(env.From)
	}
	out, err := t.api.SendEmail(ctx, in)
	if err != nil {
		st, code, enh := sesClassify(err)
		return allResults(env.To, st, code, enh, mta, "SES: %v", err)
	}
	id := ""
	if out != nil && out.MessageId != nil {
		id = *out.MessageId
	}
	return allResults(env.To, Sent, 250, "", mta, "250 accepted by SES as %s", id)
}

// sesClassify sorts SES errors: a refused message, an unverified
// domain or a bad request will not get better by retrying; throttling,
// paused sending, outages and network errors may.
func sesClassify(err error) (Status, int, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException":
			return Permanent, 554, "5.7.1"
		}
	}
	return Temporary, 0, codeOtherTemp
}
