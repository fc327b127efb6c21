package mp

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/go-mp/mp/internal/wire"
)

// Runner is implemented by a Target written in the style of a Python
// Process subclass: a struct whose fields are carried to the child and
// whose Run method is the child's work. Its fields must be exported, or
// tagged `mp:"-"` to be left behind (they start at zero in the child):
// Start refuses an untagged unexported field, naming it.
//
//	type Greeter struct{ Greeting string }
//
//	func (g *Greeter) Run() error { fmt.Println(g.Greeting); return nil }
//
//	p := mp.NewProcess(&Greeter{Greeting: "hi"})
//
// The type must be registered with [Main] or [Register]; any value of it
// registers the type.
type Runner interface {
	Run() error
}

// RunnerContext is a Runner whose Run takes a context: the context is
// cancelled when the child is asked to stop (Terminate) or its parent dies,
// and the child then has its Process's GracePeriod to return (see
// Process.GracePeriod). The type must be registered, as a Runner's is.
type RunnerContext interface {
	Run(ctx context.Context) error
}

var (
	errorType   = reflect.TypeFor[error]()
	contextType = reflect.TypeFor[context.Context]()
)

// target is a registered function or Runner type.
type target struct {
	name string
	fn   reflect.Value // function targets
	typ  reflect.Type  // Runner targets: the type, dereferenced
	ctx  bool          // the function takes a context.Context first
	run  chunkRunner   // task functions registered with Task: runs chunks without reflect
}

var registry = struct {
	sync.RWMutex
	byName map[string]*target
}{byName: map[string]*target{}}

// anonymous matches the names the compiler gives function literals
// ("main.main.func1", "pkg.F.func2.1") and method values ("pkg.T.M-fm").
var anonymous = regexp.MustCompile(`\.func\d+(\.\d+)*$|-fm$|\.gowrap\d+$`)

// describe inspects t without registering it.
func describe(t any) (*target, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalidTarget)
	}
	if tt, ok := t.(typedTask); ok {
		d, err := describe(tt.function())
		if err != nil {
			return nil, err
		}
		d.run = tt.runner()
		return d, nil
	}
	if isRunner(t) {
		typ := reflect.TypeOf(t)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Name() == "" {
			return nil, fmt.Errorf("%w: Runner %T has no type name", ErrInvalidTarget, t)
		}
		return &target{name: "runner:" + typ.PkgPath() + "." + typ.Name(), typ: typ}, nil
	}
	v := reflect.ValueOf(t)
	if v.Kind() != reflect.Func {
		return nil, fmt.Errorf("%w: %T is neither a function nor a Runner", ErrInvalidTarget, t)
	}
	if v.IsNil() {
		return nil, fmt.Errorf("%w: nil function", ErrInvalidTarget)
	}
	fn := runtime.FuncForPC(v.Pointer())
	if fn == nil {
		return nil, fmt.Errorf("%w: cannot name function %T", ErrInvalidTarget, t)
	}
	name := fn.Name()
	if anonymous.MatchString(name) {
		return nil, fmt.Errorf("%w: %s is a closure or method value; a child can only run a top-level function, declared with func Name(...)", ErrInvalidTarget, name)
	}
	if base, _, ok := strings.Cut(name, "[...]"); ok {
		// Every instantiation of a generic function has this one name
		// (runtime.FuncForPC), and some share their code too, so a child
		// could not tell which one to run.
		return nil, fmt.Errorf("%w: %s is a generic function: wrap the instantiation in a non-generic function, such as func work(v T) { %s[T](v) }",
			ErrInvalidTarget, name, base[strings.LastIndexByte(base, '.')+1:])
	}
	return funcTarget(name, v)
}

// isRunner reports whether t is a Runner or a RunnerContext.
func isRunner(t any) bool {
	switch t.(type) {
	case Runner, RunnerContext:
		return true
	}
	return false
}

// funcTarget checks a function's results: nothing or one error for a
// Process target, a result and an error for a Pool's task function.
func funcTarget(name string, v reflect.Value) (*target, error) {
	ft := v.Type()
	switch {
	case ft.NumOut() == 0:
	case ft.NumOut() == 1 && ft.Out(0) == errorType:
	case ft.NumOut() == 2 && ft.Out(1) == errorType:
	default:
		return nil, fmt.Errorf("%w: %s must return nothing, an error, or a result and an error, not %s", ErrInvalidTarget, name, ft)
	}
	ctx := ft.NumIn() > 0 && ft.In(0) == contextType
	return &target{name: "func:" + name, fn: v, ctx: ctx}, nil
}

// first is the number of leading parameters that are not Args: one for
// the context of a target that takes one.
func (t *target) first() int {
	if t.ctx {
		return 1
	}
	return 0
}

// returnsResult reports whether t is a task function, returning a result
// and an error: a Pool runs it, a Process cannot.
func (t *target) returnsResult() bool { return t.fn.IsValid() && t.fn.Type().NumOut() == 2 }

// checkProcessTarget refuses a task function as a Process target.
func (t *target) checkProcessTarget() error {
	if t.returnsResult() {
		return fmt.Errorf("%w: %s returns a result, which a Process cannot bring home: run it with a Pool, or return only an error",
			ErrInvalidTarget, t.display())
	}
	return nil
}

// Register makes targets known to children, so that Start can run them.
// A Pool's task function may be wrapped with [Task] to keep its types.
// Packages that define targets call it from init; a program passes its own
// targets to [Main], which calls Register. A target is a top-level function
// (any parameters; returning nothing or an error) or a [Runner] value, whose
// type is what is registered. A [Pool]'s task functions, which return a
// result and an error, are registered the same way.
//
// Register panics if a target is a closure, a method value, an
// instantiation of a generic function (wrap it in a non-generic one: all
// instantiations share one name, so a child could not tell them apart), a
// function with other results, or neither a function nor a Runner: these
// are programming errors that no input can cause. A Runner may be of a
// generic type: each instantiation has a name of its own.
func Register(targets ...any) {
	for _, t := range targets {
		d, err := describe(t)
		if err != nil {
			panic(err.Error())
		}
		registry.Lock()
		if old := registry.byName[d.name]; old != nil && d.run == nil {
			d.run = old.run // registered with Task before: keep its runner
		}
		registry.byName[d.name] = d
		registry.Unlock()
	}
}

// lookup returns the registered target behind t.
func lookup(t any) (*target, error) {
	d, err := describe(t)
	if err != nil {
		return nil, err
	}
	registry.RLock()
	reg := registry.byName[d.name]
	registry.RUnlock()
	if reg == nil {
		return nil, fmt.Errorf("%w: %s is not registered: pass it to mp.Main (or mp.Register from its package's init)",
			ErrInvalidTarget, strings.SplitN(d.name, ":", 2)[1])
	}
	return reg, nil
}

// encodeArgs checks args against the target and encodes them for the child.
func (t *target) encodeArgs(value any, args []any) ([]byte, error) {
	if t.typ != nil {
		if len(args) != 0 {
			return nil, fmt.Errorf("%w: a Runner target takes no Args; set its fields", ErrArgs)
		}
		v := reflect.ValueOf(value)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, fmt.Errorf("%w: nil %T", ErrInvalidTarget, value)
			}
			v = v.Elem()
		}
		b, err := wire.Encode(nil, v.Interface())
		if err != nil {
			return nil, fmt.Errorf("%w: cannot encode the fields of %T: %w", ErrArgs, value, err)
		}
		return b, nil
	}
	in, err := t.convertArgs(args)
	if err != nil || len(in) == 0 {
		return nil, err
	}
	box := reflect.New(t.argsType()).Elem()
	for i, v := range in {
		box.Field(i).Set(v)
	}
	b, err := wire.Encode(nil, box.Interface())
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode arguments of %s: %w", ErrArgs, t.display(), err)
	}
	return b, nil
}

// convertArgs checks args against a function target's parameters and
// returns one value per parameter but the context of a target that takes
// one; a variadic tail is gathered in a slice.
func (t *target) convertArgs(args []any) ([]reflect.Value, error) {
	ft := t.fn.Type()
	n := ft.NumIn() - t.first()
	if ft.IsVariadic() {
		if len(args) < n-1 {
			return nil, fmt.Errorf("%w: %s takes at least %d arguments, got %d", ErrArgs, t.display(), n-1, len(args))
		}
	} else if len(args) != n {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrArgs, t.display(), n, len(args))
	}
	in := make([]reflect.Value, n)
	for i := range in {
		pt := ft.In(t.first() + i)
		if ft.IsVariadic() && i == n-1 {
			rest := reflect.MakeSlice(pt, 0, len(args)-i)
			for j := i; j < len(args); j++ {
				av, err := convertArg(args[j], pt.Elem(), j, t)
				if err != nil {
					return nil, err
				}
				rest = reflect.Append(rest, av)
			}
			in[i] = rest
			break
		}
		av, err := convertArg(args[i], pt, i, t)
		if err != nil {
			return nil, err
		}
		in[i] = av
	}
	return in, nil
}

func convertArg(a any, pt reflect.Type, i int, t *target) (reflect.Value, error) {
	if a == nil {
		switch pt.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return reflect.Zero(pt), nil
		}
		return reflect.Value{}, fmt.Errorf("%w: argument %d of %s is nil, want %s", ErrArgs, i, t.display(), pt)
	}
	av := reflect.ValueOf(a)
	if !av.Type().AssignableTo(pt) {
		return reflect.Value{}, fmt.Errorf("%w: argument %d of %s is %s, want %s", ErrArgs, i, t.display(), av.Type(), pt)
	}
	return av.Convert(pt), nil
}

// decodeArgs is encodeArgs's inverse, run in the child.
func (t *target) decodeArgs(b []byte) ([]reflect.Value, error) {
	n := t.fn.Type().NumIn() - t.first()
	if n == 0 {
		return nil, nil
	}
	box := reflect.New(t.argsType())
	if err := wire.Decode(b, box.Interface()); err != nil {
		return nil, err
	}
	in := make([]reflect.Value, n)
	for i := range in {
		in[i] = box.Elem().Field(i)
	}
	return in, nil
}

// argsType is a struct with one field per parameter that Args fill, so
// that the arguments travel as one value of a type both sides know.
func (t *target) argsType() reflect.Type {
	ft := t.fn.Type()
	fields := make([]reflect.StructField, ft.NumIn()-t.first())
	for i := range fields {
		fields[i] = reflect.StructField{Name: fmt.Sprintf("A%d", i), Type: ft.In(t.first() + i)}
	}
	return reflect.StructOf(fields)
}

// newRunner decodes a Runner's fields in the child, and returns its Run
// with the context it takes, if it takes one. The value is a *T, which
// has the method whether Run has a pointer or a value receiver.
func (t *target) newRunner(b []byte) (func(context.Context) error, error) {
	p := reflect.New(t.typ)
	if err := wire.Decode(b, p.Interface()); err != nil {
		return nil, err
	}
	return runOf(p.Interface()), nil
}

// runOf returns the Run method of a Runner or RunnerContext r.
func runOf(r any) func(context.Context) error {
	if rc, ok := r.(RunnerContext); ok {
		return rc.Run
	}
	return func(context.Context) error { return r.(Runner).Run() }
}

func (t *target) display() string {
	return strings.SplitN(t.name, ":", 2)[1]
}

// call runs a function target with decoded args, and ctx first if it
// takes a context.
func (t *target) call(ctx context.Context, in []reflect.Value) error {
	if t.ctx {
		in = append([]reflect.Value{reflect.ValueOf(&ctx).Elem()}, in...)
	}
	var out []reflect.Value
	if t.fn.Type().IsVariadic() {
		out = t.fn.CallSlice(in)
	} else {
		out = t.fn.Call(in)
	}
	if len(out) == 1 && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}
