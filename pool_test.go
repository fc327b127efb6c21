package mp_test

import (
	"errors"
	"fmt"
	"os"
	"time"
)

func init() {
	ipcTargets = append(ipcTargets, sqr, mul, pidOf, failAt, panicAt, nap, die, echoBytes, pickySqr,
		pickyResult, initPut, initFail, initFlaky, barrier)
}

func sqr(x int) (int, error) { return x * x, nil }

func mul(x, y int) (int, error) { return x * y, nil }

// pidOf returns the worker's PID.
func pidOf(int) (int, error) { return os.Getpid(), nil }

func failAt(x int) (int, error) {
	if x == 7 {
		return 0, &testError{fmt.Sprintf("no %d", x)}
	}
	return x * x, nil
}

func panicAt(x int) (int, error) {
	if x == 3 {
		panicky(fmt.Sprint(x))
	}
	return x * x, nil
}

// nap sleeps d and returns the worker's PID.
func nap(d time.Duration) (int, error) {
	time.Sleep(d)
	return os.Getpid(), nil
}

func echoBytes(b []byte) ([]byte, error) { return b, nil }

var _ = errors.New
