package outbound

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

type fakeSES struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("ses-1")}, nil
}

// TestSESTransport checks the SES transport's construction and the request
// and error handling against a fake client. It is not run against SES or
// any server: there is no network in tests.
func TestSESTransport(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	if _, err := NewSES(t.Context(), ""); err == nil {
		t.Error("NewSES without a region succeeded")
	}
	real, err := NewSES(t.Context(), "eu-west-1")
	if err != nil || real.Region() != "eu-west-1" {
		t.Fatalf("NewSES = %v, %v", real, err)
	}

	raw := []byte("From: a@local.test\r\nTo: b@x.test\r\n\r\nhi\r\n")
	body := NewBody(bytes.NewReader(raw), int64(len(raw)))
	env := Envelope{From: "a@local.test", To: []string{"b@x.test", "c@x.test"}, Domain: "x.test"}
	f := &fakeSES{}
	ses := &SES{api: f, region: "eu-west-1"}
	res := ses.Deliver(t.Context(), env, body)
	if len(res) != 2 || res[0].Status != Sent || res[1].Status != Sent {
		t.Fatalf("results = %+v", res)
	}
	if !bytes.Equal(f.in.Content.Raw.Data, raw) || *f.in.FromEmailAddress != "a@local.test" ||
		!slices.Equal(f.in.Destination.ToAddresses, env.To) {
		t.Errorf("request = %+v", f.in)
	}

	f.err = &types.MessageRejected{Message: aws.String("Email address is not verified")}
	if res := ses.Deliver(t.Context(), env, body); res[0].Status != Permanent || !strings.Contains(res[0].Text, "not verified") {
		t.Errorf("rejected: %+v", res[0])
	}
	f.err = &types.TooManyRequestsException{Message: aws.String("slow down")}
	if res := ses.Deliver(t.Context(), env, body); res[0].Status != Temporary {
		t.Errorf("throttled: %+v", res[0])
	}
	f.err = errors.New("connection reset")
	if res := ses.Deliver(t.Context(), env, body); res[0].Status != Temporary {
		t.Errorf("network error: %+v", res[0])
	}
}
