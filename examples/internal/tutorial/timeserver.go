package tutorial

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// TimeConfig configures the time synchronisation step. The zero value of
// each field but Addr means the default noted.
type TimeConfig struct {
	// Addr is the time server's address, host:port; port 0 picks a free
	// port.
	Addr string
	// Samples is how many exchanges the client makes (default 4); it keeps
	// the one with the smallest delay, as NTP does.
	Samples int
	// Timeout and Tries bound each exchange as in UDPConfig (defaults 1s
	// and 3).
	Timeout time.Duration
	Tries   int
	// Skew is added to the server's clock, to play a remote machine whose
	// clock is off by that much.
	Skew time.Duration
}

// Sample is one NTP-style exchange: the client sends at T0 by its clock,
// the server receives at T1 and answers at T2 by its clock, and the client
// receives the answer at T3 by its clock.
type Sample struct {
	T0, T1, T2, T3 time.Time
}

// Delay is the round-trip delay: the time the exchange took, less the time
// the server held the request, (t3 - t0) - (t2 - t1).
func (s Sample) Delay() time.Duration { return s.T3.Sub(s.T0) - s.T2.Sub(s.T1) }

// Offset is how far the server's clock is ahead of the client's,
// ((t1 - t0) + (t2 - t3)) / 2. It assumes the request and the reply took
// equally long, so it is right to within Delay()/2.
func (s Sample) Offset() time.Duration { return (s.T1.Sub(s.T0) + s.T2.Sub(s.T3)) / 2 }

// TimeSync runs the tutorial's remote time synchronisation as a UDP time
// service: a server process answers each request with its clock, and the
// client, here, computes the round-trip delay and the clock offset from the
// four timestamps of each exchange. It returns the sample with the smallest
// delay.
func TimeSync(cfg TimeConfig) (Sample, error) {
	if cfg.Samples <= 0 {
		cfg.Samples = 4
	}
	ucfg := UDPConfig{Timeout: cfg.Timeout, Tries: cfg.Tries}
	ucfg.defaults()
	srv, addr, err := startServer("time-server", timeServer, cfg.Addr, cfg.Skew)
	if err != nil {
		return Sample{}, err
	}
	defer stopServer(srv)

	conn, err := net.ListenUDP("udp", localFor(addr))
	if err != nil {
		return Sample{}, err
	}
	defer conn.Close()
	var best Sample
	for i := 1; i <= cfg.Samples; i++ {
		var t0 time.Time
		reply, _, err := ask(conn, addr, ucfg.Tries, ucfg.Timeout,
			func() []byte {
				t0 = now()
				return []byte("TIME " + stamp(t0))
			},
			func(b []byte) bool { // the answer to this request, not a late one
				f := strings.Fields(string(b))
				return len(f) == 3 && f[0] == stamp(t0) && isStamp(f[1]) && isStamp(f[2])
			})
		t3 := now()
		if err != nil {
			say("client: %v", err)
			return Sample{}, err
		}
		f := strings.Fields(string(reply))
		s := Sample{T0: t0, T1: unstamp(f[1]), T2: unstamp(f[2]), T3: t3}
		say("client: sample %d: t0=%s t1=%s t2=%s t3=%s delay=%v offset=%s",
			i, clock(s.T0), clock(s.T1), clock(s.T2), clock(s.T3), s.Delay(), signed(s.Offset()))
		if i == 1 || s.Delay() < best.Delay() {
			best = s
		}
	}
	say("client: best of %d (smallest delay): delay=%v offset=%s", cfg.Samples, best.Delay(), signed(best.Offset()))
	off, rel := best.Offset(), "ahead of"
	if off < 0 {
		off, rel = -off, "behind"
	}
	say("client: the server's clock is %v %s ours, give or take %v (delay/2)", off, rel, best.Delay()/2)
	return best, nil
}

// timeServer is the time server's target: it binds addr, reports to ready,
// and answers each "TIME t0" with "t0 t1 t2", t1 and t2 being its clock
// (plus skew) when the request came and when it answers.
func timeServer(addr, ready string, skew time.Duration) error {
	conn, err := listen(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	say("time server: listening on %s, clock skew %s", conn.LocalAddr(), signed(skew))
	if err := notifyReady(conn, ready); err != nil {
		return err
	}
	buf := make([]byte, 128)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		t1 := now().Add(skew)
		if err != nil {
			return err
		}
		f := strings.Fields(string(buf[:n]))
		if len(f) != 2 || f[0] != "TIME" {
			continue
		}
		t2 := now().Add(skew)
		if _, err := conn.WriteToUDP([]byte(f[1]+" "+stamp(t1)+" "+stamp(t2)), from); err != nil {
			return err
		}
	}
}

// now is the wall clock without Go's monotonic reading: the four
// timestamps come from two processes, so all are compared as wall times.
func now() time.Time { return time.Now().Round(0) }

// stamp and unstamp carry a time as Unix nanoseconds.
func stamp(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// isStamp reports whether s is a stamp.
func isStamp(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func unstamp(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(0, n)
}

// clock prints a time of day to the microsecond.
func clock(t time.Time) string { return t.Format("15:04:05.000000") }
