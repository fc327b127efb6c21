package managers_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// Ports of CPython's TestSyncManagerTypes: each object is made in the
// parent, changed by a child, and the parent sees the change. Every case
// runs under every start method.

func init() {
	targets = append(targets, childEvent, childLock, childSemaphore, childBarrier, childQueue,
		childList, childDict, childValue, childNamespace, childManager)
}

// check returns an error naming what is not so.
func check(ok bool, what string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("not so: "+what, args...)
}

func childEvent(e *managers.Event) error {
	set, err := e.IsSet()
	if err != nil {
		return err
	}
	if err := check(set, "the event is set"); err != nil {
		return err
	}
	if err := e.Wait(); err != nil {
		return err
	}
	if err := e.Clear(); err != nil {
		return err
	}
	ok, err := e.WaitTimeout(time.Millisecond)
	if err != nil {
		return err
	}
	return check(!ok, "WaitTimeout of a cleared event reports false")
}

func childLock(l *managers.Lock) error { return l.Acquire() }

func childSemaphore(s *managers.Semaphore) error { return s.Acquire() }

func childBarrier(b *managers.Barrier) error {
	n, err := b.Parties()
	if err != nil {
		return err
	}
	if err := check(n == 5, "parties == 5, not %d", n); err != nil {
		return err
	}
	return b.Reset()
}

func childQueue(q *managers.Queue[int]) error {
	n, err := q.Qsize()
	if err != nil {
		return err
	}
	full, err := q.Full()
	if err != nil {
		return err
	}
	if err := check(n == 2 && full, "qsize 2 (%d) and full (%v)", n, full); err != nil {
		return err
	}
	for _, want := range []int{5, 6} {
		got, err := q.Get()
		if err != nil {
			return err
		}
		if err := check(got == want, "got %d, want %d", got, want); err != nil {
			return err
		}
	}
	empty, err := q.Empty()
	if err != nil {
		return err
	}
	return check(empty, "empty")
}

func childList(l *managers.List[int]) error {
	v, err := l.Get(0)
	if err != nil {
		return err
	}
	c, err := l.Count(5)
	if err != nil {
		return err
	}
	i, err := l.Index(5)
	if err != nil {
		return err
	}
	if err := check(v == 5 && c == 1 && i == 0, "l[0] == 5 (%d), count 1 (%d), index 0 (%d)", v, c, i); err != nil {
		return err
	}
	if err := l.Reverse(); err != nil {
		return err
	}
	all, err := l.All()
	if err != nil {
		return err
	}
	n, err := l.Len()
	if err != nil {
		return err
	}
	if err := check(len(all) == 1 && n == 1, "len 1 (%d, %d)", len(all), n); err != nil {
		return err
	}
	v, err = l.Pop(0)
	if err != nil {
		return err
	}
	return check(v == 5, "pop(0) == 5, not %d", v)
}

func childDict(d *managers.Dict[string, int]) error {
	n, err := d.Len()
	if err != nil {
		return err
	}
	v, err := d.Get("foo")
	if err != nil {
		return err
	}
	g, err := d.GetDefault("foo", 0)
	if err != nil {
		return err
	}
	keys, err := d.Keys()
	if err != nil {
		return err
	}
	vals, err := d.Values()
	if err != nil {
		return err
	}
	m, err := d.Map()
	if err != nil {
		return err
	}
	if err := check(n == 1 && v == 5 && g == 5 && len(keys) == 1 && keys[0] == "foo" && len(vals) == 1 && vals[0] == 5 && len(m) == 1 && m["foo"] == 5,
		"the dict is {foo: 5}: %d %d %d %v %v %v", n, v, g, keys, vals, m); err != nil {
		return err
	}
	k, v, err := d.PopItem()
	if err != nil {
		return err
	}
	return check(k == "foo" && v == 5, "popitem is (foo, 5), not (%s, %d)", k, v)
}

func childValue(v *managers.Value[int32]) error {
	x, err := v.Load()
	if err != nil {
		return err
	}
	if err := check(x == 1, "value 1, not %d", x); err != nil {
		return err
	}
	return v.Store(2)
}

func childNamespace(n *managers.Namespace) error {
	x, err := managers.Attr[int](n, "x")
	if err != nil {
		return err
	}
	y, err := managers.Attr[int](n, "y")
	if err != nil {
		return err
	}
	return check(x == 0 && y == 1, "x == 0 and y == 1, not %d and %d", x, y)
}

// childManager makes a dict through a Manager it was given, and hands it
// back on a queue of the same manager.
func childManager(m *managers.Manager, q *managers.Queue[*managers.Dict[string, int]]) error {
	d, err := managers.NewDict[string, int](m)
	if err != nil {
		return err
	}
	if err := d.Set("from", 1); err != nil {
		return err
	}
	if err := q.Put(d); err != nil {
		return err
	}
	return check(errors.Is(m.Shutdown(), managers.ErrNotOwnerManager), "a child cannot shut the manager down")
}

func forEachMethod(t *testing.T, f func(t *testing.T, method mp.StartMethod)) {
	for _, method := range mp.AllStartMethods() {
		t.Run(string(method), func(t *testing.T) {
			t.Parallel()
			f(t, method)
		})
	}
}

func TestSyncManagerTypes(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	forEachMethod(t, func(t *testing.T, method mp.StartMethod) {
		t.Run("Event", func(t *testing.T) {
			o := must[*managers.Event](t)(managers.NewEvent(m))
			require.NoError(t, o.Set())
			run(t, method, childEvent, o)
			assert.False(t, must[bool](t)(o.IsSet()))
			assert.False(t, must[bool](t)(o.WaitTimeout(time.Millisecond)))
		})
		t.Run("Lock", func(t *testing.T) {
			o := must[*managers.Lock](t)(managers.NewLock(m))
			run(t, method, childLock, o)
			// The child ended holding it: the lock stays locked, and
			// another process may release it, as in Python.
			assert.True(t, must[bool](t)(o.Locked()))
			require.NoError(t, o.Release())
			assert.ErrorIs(t, o.Release(), managers.ErrTooManyReleases)
		})
		t.Run("Semaphore", func(t *testing.T) {
			o := must[*managers.Semaphore](t)(managers.NewSemaphore(m, 1))
			run(t, method, childSemaphore, o)
			assert.Equal(t, 0, must[int](t)(o.Value()))
			require.NoError(t, o.Release())
		})
		t.Run("BoundedSemaphore", func(t *testing.T) {
			o := must[*managers.Semaphore](t)(managers.NewBoundedSemaphore(m, 1))
			run(t, method, childSemaphore, o)
			require.NoError(t, o.Release())
			assert.ErrorIs(t, o.Release(), managers.ErrTooManyReleases)
		})
		t.Run("Barrier", func(t *testing.T) {
			o := must[*managers.Barrier](t)(managers.NewBarrier(m, 5))
			run(t, method, childBarrier, o)
		})
		for _, joinable := range []bool{false, true} {
			t.Run(fmt.Sprintf("Queue/joinable=%v", joinable), func(t *testing.T) {
				var o *managers.Queue[int]
				if joinable {
					o = &must[*managers.JoinableQueue[int]](t)(managers.NewJoinableQueue[int](m, 2)).Queue
				} else {
					o = must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 2))
				}
				require.NoError(t, o.Put(5))
				require.NoError(t, o.Put(6))
				run(t, method, childQueue, o)
				assert.True(t, must[bool](t)(o.Empty()))
				assert.False(t, must[bool](t)(o.Full()))
			})
		}
		t.Run("List", func(t *testing.T) {
			o := must[*managers.List[int]](t)(managers.NewList[int](m))
			require.NoError(t, o.Append(5))
			run(t, method, childList, o)
			assert.Equal(t, 0, must[int](t)(o.Len()))
		})
		t.Run("Dict", func(t *testing.T) {
			o := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
			require.NoError(t, o.Set("foo", 5))
			run(t, method, childDict, o)
			assert.Equal(t, 0, must[int](t)(o.Len()))
		})
		t.Run("Value", func(t *testing.T) {
			o := must[*managers.Value[int32]](t)(managers.NewValue[int32](m, 1))
			run(t, method, childValue, o)
			assert.Equal(t, int32(2), must[int32](t)(o.Load()))
		})
		t.Run("Namespace", func(t *testing.T) {
			o := must[*managers.Namespace](t)(managers.NewNamespace(m))
			require.NoError(t, o.Set("x", 0))
			require.NoError(t, o.Set("y", 1))
			run(t, method, childNamespace, o)
		})
		t.Run("Manager", func(t *testing.T) {
			q := must[*managers.Queue[*managers.Dict[string, int]]](t)(managers.NewQueue[*managers.Dict[string, int]](m, 0))
			run(t, method, childManager, m, q)
			d := must[*managers.Dict[string, int]](t)(q.Get())
			// The child has ended: its session let go of the dict, which
			// the queue's item kept alive until this process held it.
			assert.Equal(t, 1, must[int](t)(d.Get("from")))
		})
	})
}
