package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, stoppable) }

// stoppable works until it is asked to stop, then cleans up.
func stoppable(ctx context.Context, ready *mp.Conn) error {
	if err := ready.Send("working"); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Println("cleaning up:", context.Cause(ctx))
	return nil
}

func ExampleProcess_GracePeriod() {
	r, w, err := mp.Pipe(false)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	p := mp.NewProcess(stoppable, w)
	p.GracePeriod = 10 * time.Second // to return, once asked to stop
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	w.Close()
	var state string
	if err := r.Recv(&state); err != nil {
		log.Fatal(err)
	}
	if err := p.Terminate(); err != nil { // cancels stoppable's context
		log.Fatal(err)
	}
	_ = p.Join()
	code, _ := p.ExitCode()
	fmt.Println("exit code", code)
	// Output:
	// cleaning up: mp: terminated
	// exit code -15
}

func ExampleConn_RecvBytesInto() {
	r, w, err := mp.Pipe(false)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	_ = w.SendBytes([]byte("a message longer than the buffer"))
	buf := make([]byte, 8)
	_, err = r.RecvBytesInto(buf)
	var short *mp.BufferTooShortError
	if errors.As(err, &short) {
		fmt.Printf("%v\nthe message is kept: %q\n", err, short.Message)
	}
	// Output:
	// mp: buffer too short: a message of 32 bytes for a buffer of 8
	// the message is kept: "a message longer than the buffer"
}
