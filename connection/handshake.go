package connection

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"

	"github.com/go-mp/mp"
)

// The authentication, both ways: Python's challenge messages, with
// HMAC-SHA256 digests. This file is its one home: Python's own handshake
// (a digest named in braces before the challenge, Python 3.12's) would be
// a second scheme here.
var (
	challengePrefix = []byte("#CHALLENGE#")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

// challengeSize is the random part of a challenge.
const challengeSize = 32

// maxHandshake bounds a handshake message: nothing larger is read from a
// peer that has not proved its key.
const maxHandshake = 256

// auth authenticates connections with a key.
type auth struct{ key []byte }

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

func (a auth) digest(msg []byte) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write(msg)
	return m.Sum(nil)
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

// deliverChallenge sends a random challenge and checks the answer.
func (a auth) deliverChallenge(c *mp.Conn) error {
	msg := append(bytes.Clone(challengePrefix), make([]byte, challengeSize)...)
	_, _ = rand.Read(msg[len(challengePrefix):])
	if err := send(c, msg); err != nil {
		return err
	}
	resp, err := recv(c)
	if err != nil {
		return err
	}
	if !hmac.Equal(resp, a.digest(msg)) {
		_ = c.SendBytes(failure)
		return fmt.Errorf("%w: the peer's digest does not match: it has another key", mp.ErrAuth)
	}
	return send(c, welcome)
}

// answerChallenge answers the peer's challenge.
func (a auth) answerChallenge(c *mp.Conn) error {
	msg, err := recv(c)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challengePrefix) {
		return fmt.Errorf("%w: the peer sent no challenge", mp.ErrAuth)
	}
	if err := send(c, a.digest(msg)); err != nil {
		return err
	}
	resp, err := recv(c)
	if err != nil {
		return err
	}
	if !bytes.Equal(resp, welcome) {
		return fmt.Errorf("%w: the peer refused our digest: it has another key", mp.ErrAuth)
	}
	return nil
}
