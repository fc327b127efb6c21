package managers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-mp/mp/internal/wire"
)

// NumObjects returns the number of objects s holds, for the tests of
// their lifetime (Python's _number_of_objects).
func NumObjects(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// DescribeObjects says what s holds and what keeps each object, for the
// message of a lifetime test that fails.
func DescribeObjects(s *Server) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, o := range s.objects {
		ended := 0
		for ss := range o.holders {
			if ss.ended {
				ended++
			}
		}
		lines = append(lines, fmt.Sprintf("object %d (%s): %d sessions hold it (%d of them ended), %d stored values name it, name %q",
			o.id, o.typeid, len(o.holders), ended, o.stored, o.name))
	}
	sort.Strings(lines)
	return fmt.Sprintf("%d sessions open; %s", len(s.sessions), strings.Join(lines, "; "))
}

// Flush sends m's session's releases to the server.
func Flush(m *Manager) error {
	c, err := m.client()
	if err != nil {
		return err
	}
	_, err = c.do(&request{op: opRelease}, "flush")
	return err
}

// Hello returns the hello of a connection that begins a session (or joins
// one, if !primary) speaking version of the protocol.
func Hello(version int64, primary bool, session [16]byte) []byte {
	var w wire.Writer
	(&request{op: opHello, ints: []int64{version, boolInt(primary)}, vals: [][]byte{session[:]}}).encode(&w)
	return w.B
}

// ReplyError returns the error a reply carries, or nil.
func ReplyError(b []byte) error {
	_, err := decodeReply(b)
	return err
}
