package mp_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, sleepReady, catchInterrupt) }

// sleepReady says it is running, then sleeps.
func sleepReady() {
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

// catchInterrupt handles os.Interrupt, as a Python child handles
// KeyboardInterrupt, and returns when it comes.
func catchInterrupt() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("interrupted")
}

// TestInterrupt checks Python 3.14's Process.interrupt: a child that does
// not handle the interrupt dies of it (-2); one that does goes on.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target any
		code   int
		out    string
	}{
		{sleepReady, -2, ""},
		{catchInterrupt, 0, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			p := mp.NewProcess(tt.target)
			lines := startReading(t, p)
			require.True(t, lines.Scan())
			require.Equal(t, "ready", lines.Text())
			if !hasConsole() {
				require.Error(t, p.Interrupt(), "a console control event needs a console")
				t.Skip("this Windows process has no console (the Wine lane runs the tests with none), " +
					"and a console control event, which Interrupt sends on Windows, needs one")
			}
			require.NoError(t, p.Interrupt())
			if tt.out != "" {
				require.True(t, lines.Scan())
				assert.Equal(t, tt.out, lines.Text())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.JoinContext(ctx)
			code, exited := p.ExitCode()
			require.True(t, exited)
			assert.Equal(t, tt.code, code)
			assert.NoError(t, p.Interrupt(), "an exited child: nothing to do")
		})
	}
	assert.ErrorIs(t, mp.NewProcess(noop).Interrupt(), mp.ErrNotStarted)
}
