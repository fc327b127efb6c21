package connection

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"os"

	"github.com/go-mp/mp"
)

// The authentication, both ways, is Python's multiprocessing.connection
// handshake, byte for byte (deliver_challenge and answer_challenge in
// Lib/multiprocessing/connection.py), so that Go and Python processes
// authenticate each other:
//
//  1. The side that delivers a challenge sends "#CHALLENGE#" and a message
//     of a digest name in braces and 40 random bytes: "{sha256}...".
//  2. The other side answers with the digest name in braces and the HMAC of
//     the whole message (braces included) under the key, with that digest:
//     "{sha256}" and 32 bytes.
//  3. The first side sends "#WELCOME#" if the HMAC is right, "#FAILURE#"
//     otherwise.
//
// The listener delivers its challenge first and then answers the
// client's; the client answers first, then delivers. Python 3.11 and older
// know only HMAC-MD5 with no digest name: their challenge is 20 random
// bytes, and their answer 16 bytes of HMAC-MD5. This side speaks that form
// only when the Listener or Dialer allows it (LegacyMD5).
var (
	challengePrefix = []byte("#CHALLENGE#")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

// challengeSize is the random part of a challenge (Python's
// MESSAGE_LENGTH), and ourDigest the digest our challenges ask for
// (Python's default).
const (
	challengeSize = 40
	ourDigest     = "sha256"
)

// Python's _MD5ONLY_MESSAGE_LENGTH and _MD5_DIGEST_LEN: a challenge or an
// answer of one of these lengths is of the legacy form.
const (
	legacyChallengeSize = 20
	md5Size             = 16
)

// maxHandshake bounds a handshake message, as Python's recv_bytes(256):
// nothing larger is read from a peer that has not proved its key.
const maxHandshake = 256

// digests are the HMAC digests Python 3.12 accepts (_ALLOWED_DIGESTS).
var digests = map[string]func() hash.Hash{
	"md5":      md5.New,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() },
}

// maxDigestName is the longest name in digests (Python's _MAX_DIGEST_LEN).
const maxDigestName = len("sha3_256")

// auth authenticates connections with a key.
type auth struct {
	key    []byte
	legacy bool // HMAC-MD5, of Python 3.11 and older, is accepted
}

// serve authenticates the peer of a newly accepted connection: the peer
// must answer a challenge, then it challenges us.
func (a auth) serve(c *mp.Conn) error {
	c.SetMaxMessage(maxHandshake)
	if err := a.deliverChallenge(c); err != nil {
		return err
	}
	if err := a.answerChallenge(c); err != nil {
		return err
	}
	c.SetMaxMessage(mp.DefaultMaxMessage)
	return nil
}

// connect authenticates a connection to a listener: serve's mirror.
func (a auth) connect(c *mp.Conn) error {
	c.SetMaxMessage(maxHandshake)
	if err := a.answerChallenge(c); err != nil {
		return err
	}
	if err := a.deliverChallenge(c); err != nil {
		return err
	}
	c.SetMaxMessage(mp.DefaultMaxMessage)
	return nil
}

// mac is the HMAC of msg under the key with the named digest.
func (a auth) mac(digest string, msg []byte) []byte {
	m := hmac.New(digests[digest], a.key)
	m.Write(msg)
	return m.Sum(nil)
}

// digestOf parses a challenge (without its prefix) or an answer as
// Python's _get_digest_name_and_payload does: one of the legacy lengths
// means HMAC-MD5 with no name (""), anything else must begin with a known
// digest name in braces.
func digestOf(msg []byte) (name string, rest []byte, err error) {
	if len(msg) == legacyChallengeSize || len(msg) == md5Size {
		return "", msg, nil
	}
	if len(msg) > 0 && msg[0] == '{' {
		if end := bytes.IndexByte(msg[1:min(len(msg), maxDigestName+2)], '}'); end > 0 {
			if name := string(msg[1 : 1+end]); digests[name] != nil {
				return name, msg[end+2:], nil
			}
		}
	}
	n := min(len(msg), maxDigestName+2)
	return "", nil, fmt.Errorf("%w: the peer speaks another protocol: a message of %d bytes beginning %q, neither of a known digest nor of Python's legacy HMAC-MD5 form",
		mp.ErrAuth, len(msg), msg[:n])
}

// errLegacy is the error for a peer that knows only HMAC-MD5 when it is
// not allowed.
func errLegacy(what string) error {
	return fmt.Errorf("%w: the peer %s HMAC-MD5, the only digest of Python 3.11 and older; set LegacyMD5 on the Listener or Dialer to accept it", mp.ErrAuth, what)
}

// recv reads one handshake message, of at most maxHandshake bytes, and
// decodes nothing.
func recv(c *mp.Conn) ([]byte, error) {
	b, err := c.RecvBytes()
	if err != nil {
		return nil, handshakeError(err)
	}
	return b, nil
}

func send(c *mp.Conn, msg []byte) error {
	if err := c.SendBytes(msg); err != nil {
		return handshakeError(err)
	}
	return nil
}

func handshakeError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: the handshake took too long: %w", mp.ErrAuth, err)
	}
	return fmt.Errorf("%w: during the handshake: %w", mp.ErrAuth, err)
}

// deliverChallenge sends a random challenge and checks the answer
// (Python's deliver_challenge and _verify_challenge).
func (a auth) deliverChallenge(c *mp.Conn) error {
	msg := fmt.Appendf(nil, "{%s}", ourDigest)
	msg = append(msg, make([]byte, challengeSize)...)
	_, _ = rand.Read(msg[len(msg)-challengeSize:])
	if err := send(c, append(bytes.Clone(challengePrefix), msg...)); err != nil {
		return err
	}
	resp, err := recv(c)
	if err != nil {
		return err
	}
	if err := a.verify(msg, resp); err != nil {
		_ = c.SendBytes(failure)
		return err
	}
	return send(c, welcome)
}

// verify checks the answer resp to the challenge msg.
func (a auth) verify(msg, resp []byte) error {
	name, got, err := digestOf(resp)
	if err != nil {
		return err
	}
	if name == "" || name == "md5" {
		if !a.legacy {
			return errLegacy("answered with")
		}
		name = "md5"
	}
	want := a.mac(name, msg)
	if len(got) != len(want) {
		return fmt.Errorf("%w: the peer's %s digest has %d bytes, not %d", mp.ErrAuth, name, len(got), len(want))
	}
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: the peer's %s digest does not match: it has another key", mp.ErrAuth, name)
	}
	return nil
}

// answerChallenge answers the peer's challenge (Python's answer_challenge
// and _create_response): with the digest the challenge names, or with
// HMAC-MD5 and no name to a legacy challenge.
func (a auth) answerChallenge(c *mp.Conn) error {
	msg, err := recv(c)
	if err != nil {
		return err
	}
	msg, ok := bytes.CutPrefix(msg, challengePrefix)
	if !ok {
		return fmt.Errorf("%w: the peer sent no challenge", mp.ErrAuth)
	}
	if len(msg) < legacyChallengeSize {
		return fmt.Errorf("%w: the peer's challenge is too short: %d bytes", mp.ErrAuth, len(msg))
	}
	name, _, err := digestOf(msg)
	if err != nil {
		return err
	}
	var answer []byte
	switch name {
	case "":
		if !a.legacy {
			return errLegacy("is of Python 3.11 or older: its challenge asks for")
		}
		answer = a.mac("md5", msg)
	case "md5":
		if !a.legacy {
			return errLegacy("asks for")
		}
		fallthrough
	default:
		answer = append(fmt.Appendf(nil, "{%s}", name), a.mac(name, msg)...)
	}
	if err := send(c, answer); err != nil {
		return err
	}
	resp, err := recv(c)
	if err != nil {
		return err
	}
	if !bytes.Equal(resp, welcome) {
		return fmt.Errorf("%w: the peer refused our %s digest: it has another key", mp.ErrAuth, cmp.Or(name, "md5"))
	}
	return nil
}
