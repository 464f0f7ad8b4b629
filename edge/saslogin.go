package edge

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// saslLogin is the name of the LOGIN mechanism.
const saslLogin = "LOGIN"

// Challenges of the LOGIN mechanism (draft-murchison-sasl-login section 2.1).
// Clients ignore their text, but some expect exactly these.
var (
	loginUsernameChallenge = []byte("Username:")
	loginPasswordChallenge = []byte("Password:")
)

// errLoginUnexpected ends a LOGIN exchange that the client continued after
// the password.
var errLoginUnexpected = errors.New("edge: unexpected LOGIN response")

// loginServer is the server side of the obsolete but ubiquitous LOGIN SASL
// mechanism (draft-murchison-sasl-login-00): the server asks "Username:"
// then "Password:", the client answers each in base64 (go-smtp does the
// base64). go-sasl has only the client side. Outlook and some phones offer
// nothing else. Like PLAIN it is only safe under TLS, which go-smtp
// enforces unless AllowInsecureAuth is set.
type loginServer struct {
	authenticate func(username, password string) error
	username     []byte
	step         loginStep
}

// loginStep is where a LOGIN exchange is.
type loginStep int

const (
	loginStart    loginStep = iota // nothing received yet
	loginAsked                     // "Username:" sent
	loginUsername                  // username received, "Password:" sent
	loginDone
)

// newLoginServer returns a LOGIN server that calls authenticate with the
// credentials once it has both.
func newLoginServer(authenticate func(username, password string) error) sasl.Server {
	return &loginServer{authenticate: authenticate}
}

// Next implements sasl.Server. A nil response means that the client sent
// no initial response (AUTH LOGIN alone): then the server asks for the
// username; an initial response ("AUTH LOGIN dXNlcg==") is the username
// (draft-murchison-sasl-login section 2.1 allows it).
func (s *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch s.step {
	case loginStart:
		if response == nil {
			s.step = loginAsked
			return loginUsernameChallenge, false, nil
		}
		fallthrough
	case loginAsked:
		s.username = response
		s.step = loginUsername
		return loginPasswordChallenge, false, nil
	case loginUsername:
		s.step = loginDone
		return nil, true, s.authenticate(string(s.username), string(response))
	default:
		return nil, true, errLoginUnexpected
	}
}
