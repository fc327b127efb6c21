package managers

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

// registry holds the types and functions registered in this process: a
// server knows those its process registered.
var registry = struct {
	sync.RWMutex
	types map[string]*registered
	funcs map[string]reflect.Value
}{types: map[string]*registered{}, funcs: map[string]reflect.Value{}}

// registered is a type registered with Register.
type registered struct {
	typeid  string
	ctor    reflect.Value
	exposed []string // nil: every exported method
}

var (
	errorType   = reflect.TypeFor[error]()
	contextType = reflect.TypeFor[context.Context]()
)

// RegisterOption configures Register.
type RegisterOption interface{ applyRegister(*registered) }

type registerFunc func(*registered)

func (f registerFunc) applyRegister(r *registered) { f(r) }

// Exposed narrows the methods a proxy may call to those named (Python's
// exposed); without it, every exported method of the object is exposed.
// A call of another method is an error wrapping ErrNotExposed.
func Exposed(methods ...string) RegisterOption {
	ms := slices.Clone(methods)
	return registerFunc(func(r *registered) { r.exposed = ms })
}

// Register makes objects of a type creatable, under typeid, through the
// managers of this process: Python's BaseManager.register(typeid,
// callable). New(m, typeid, args...) calls constructor in the manager's
// process with args, and returns a proxy whose Call reaches the exported
// methods of what it returned.
//
// constructor is a function that returns the object, or the object and
// an error; its parameters are what New's args are decoded into. The
// server tells objects apart by pointer: a constructor that returns an
// object the server already has (a pointer to one shared queue, say)
// gives a proxy of that object, so that its callers share it, as with
// Python's register('get_queue', callable=lambda: queue).
//
// Registration must happen in every process that serves the type: for
// NewManager's process, in an init function or before mp.Main (as the
// process is the program started afresh). A client that only calls New
// need not register anything.
//
// Methods of a registered type run in the server's goroutines, several
// at once when several connections call them, as Python's run in its
// threads: guard the object's state. A method whose first parameter is a
// context.Context gets one that ends when its caller goes away (its
// process ends, or its proxy's CallContext context ends), so that a
// method that waits can stop. A method's error, or panic, returns to the
// caller as a *RemoteError.
//
// Register panics if typeid is empty or a built-in type's ("dict",
// "Queue", ...), if constructor is not such a function, or if Exposed
// names a method the type lacks: these are programming errors.
// Registering a type id again replaces it.
func Register(typeid string, constructor any, opts ...RegisterOption) {
	if typeid == "" || builtins[typeid] != nil {
		panic(fmt.Sprintf("mp: Register: the type id %q is empty or a built-in type's", typeid))
	}
	fv := reflect.ValueOf(constructor)
	if fv.Kind() != reflect.Func || fv.IsNil() {
		panic(fmt.Sprintf("mp: Register(%q): the constructor is a %T, not a function", typeid, constructor))
	}
	ft := fv.Type()
	if ft.NumOut() < 1 || ft.NumOut() > 2 || ft.NumOut() == 2 && ft.Out(1) != errorType || ft.Out(0) == errorType {
		panic(fmt.Sprintf("mp: Register(%q): the constructor must return an object, or an object and an error, not %s", typeid, ft))
	}
	r := &registered{typeid: typeid, ctor: fv}
	for _, o := range opts {
		o.applyRegister(r)
	}
	for _, m := range r.exposed {
		if _, ok := ft.Out(0).MethodByName(m); !ok {
			panic(fmt.Sprintf("mp: Register(%q): Exposed names %s, which %s has not (an unexported method cannot be exposed)", typeid, m, ft.Out(0)))
		}
	}
	registry.Lock()
	registry.types[typeid] = r
	registry.Unlock()
}

// identityKey tells objects apart by address, for a constructor that
// returns an object the server has.
type identityKey struct {
	t reflect.Type
	p uintptr
}

// constructRegistered calls a registered type's constructor.
func constructRegistered(typeid string, vals [][]byte) (object, any, []string, error) {
	registry.RLock()
	r := registry.types[typeid]
	registry.RUnlock()
	if r == nil {
		return nil, nil, nil, errorf(ErrNotRegistered, "the type id %q is not registered in the manager's process: register it with managers.Register in an init function or before mp.Main", typeid)
	}
	in, err := decodeParams(r.ctor.Type(), 0, vals, typeid, "constructor")
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := invoke(r.ctor, in, typeid, "constructor")
	if err != nil {
		return nil, nil, nil, err
	}
	v := out[0]
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Map || v.Kind() == reflect.Chan) && v.IsNil() {
		return nil, nil, nil, &RemoteError{TypeID: typeid, Method: "constructor", Err: "the constructor returned nil", ErrType: "<nil>"}
	}
	o := &registeredObject{typeid: typeid, v: v, methods: map[string]reflect.Value{}}
	t := v.Type()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.IsExported() && (r.exposed == nil || slices.Contains(r.exposed, m.Name)) {
			o.methods[m.Name] = v.Method(i)
		}
	}
	var identity any
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan:
		identity = identityKey{t, v.Pointer()}
	}
	return o, identity, sortedKeys(o.methods), nil
}

// registeredObject is a registered type's object in the server.
type registeredObject struct {
	typeid  string
	v       reflect.Value
	methods map[string]reflect.Value
}

func (o *registeredObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	m, ok := o.methods[method]
	if !ok || len(ints) != 0 {
		return nil, errorf(ErrNotExposed, "%s has no exposed method %s", o.typeid, method)
	}
	skip := 0
	ft := m.Type()
	var in []reflect.Value
	if ft.NumIn() > 0 && ft.In(0) == contextType {
		in = append(in, reflect.ValueOf(c.context()))
		skip = 1
	}
	args, err := decodeParams(ft, skip, vals, o.typeid, method)
	if err != nil {
		return nil, err
	}
	out, err := invoke(m, append(in, args...), o.typeid, method)
	if err != nil {
		return nil, err
	}
	resp := &response{vals: make([][]byte, len(out))}
	for i, v := range out {
		if resp.vals[i], err = wire.Encode(nil, v.Interface()); err != nil {
			return nil, &RemoteError{TypeID: o.typeid, Method: method, Err: fmt.Sprintf("cannot encode result %d: %v", i, err), ErrType: fmt.Sprintf("%T", err)}
		}
	}
	c.returned(resp.vals...)
	return resp, nil
}

// decodeParams decodes the values of a call into the parameters of ft
// from skip on; a variadic tail takes the rest.
func decodeParams(ft reflect.Type, skip int, vals [][]byte, typeid, method string) ([]reflect.Value, error) {
	n := ft.NumIn() - skip
	if ft.IsVariadic() && len(vals) < n-1 || !ft.IsVariadic() && len(vals) != n {
		return nil, fmt.Errorf("%w: %s.%s takes %d arguments, got %d", mp.ErrArgs, typeid, method, n, len(vals))
	}
	in := make([]reflect.Value, 0, len(vals))
	for i, b := range vals {
		pt := ft.In(min(skip+i, ft.NumIn()-1))
		if ft.IsVariadic() && skip+i >= ft.NumIn()-1 {
			pt = pt.Elem()
		}
		p := reflect.New(pt)
		if err := wire.Decode(b, p.Interface()); err != nil {
			return nil, fmt.Errorf("%w: %s.%s: argument %d: %w", mp.ErrArgs, typeid, method, i, err)
		}
		in = append(in, p.Elem())
	}
	return in, nil
}

// invoke calls fn, turning a panic, or an error as its last result, into
// a *RemoteError; it returns the other results.
func invoke(fn reflect.Value, in []reflect.Value, typeid, method string) (out []reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &RemoteError{TypeID: typeid, Method: method, Panic: fmt.Sprint(p), Stack: string(debug.Stack())}
		}
	}()
	out = fn.Call(in)
	if n := len(out); n > 0 && fn.Type().Out(n-1) == errorType {
		if e, _ := out[n-1].Interface().(error); e != nil {
			return nil, &RemoteError{TypeID: typeid, Method: method, Err: e.Error(), ErrType: fmt.Sprintf("%T", e), cause: e}
		}
		out = out[:n-1]
	}
	return out, nil
}

// anonymous matches the names the compiler gives function literals and
// method values, which differ between builds of a program's code paths.
var anonymous = regexp.MustCompile(`\.func\d+(\.\d+)*$|-fm$|\.gowrap\d+$`)

// funcName names a function for RegisterFunc and Modify.
func funcName(fn any) (string, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return "", fmt.Errorf("%w: %T is not a function", ErrNotRegistered, fn)
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return "", fmt.Errorf("%w: cannot name %T", ErrNotRegistered, fn)
	}
	name := f.Name()
	if anonymous.MatchString(name) || strings.Contains(name, "[...]") {
		return "", fmt.Errorf("%w: %s is a closure, a method value or a generic function: the manager's process can only run a top-level function", ErrNotRegistered, name)
	}
	return name, nil
}

// RegisterFunc makes functions runnable by Dict.Modify in the managers of
// this process. Each is a top-level function of the form
// func(old V, found bool) V. Like Register, it must run in the manager's
// process: in an init function, or before mp.Main.
//
// RegisterFunc panics if a function is a closure, a method value, an
// instantiation of a generic function (wrap it in a non-generic one), or
// of another form: these are programming errors.
func RegisterFunc(fns ...any) {
	for _, fn := range fns {
		name, err := funcName(fn)
		if err != nil {
			panic("mp: RegisterFunc: " + err.Error())
		}
		ft := reflect.TypeOf(fn)
		if ft.NumIn() != 2 || ft.In(1).Kind() != reflect.Bool || ft.NumOut() != 1 || ft.Out(0) != ft.In(0) {
			panic(fmt.Sprintf("mp: RegisterFunc: %s is a %s, not a func(old V, found bool) V", name, ft))
		}
		registry.Lock()
		registry.funcs[name] = reflect.ValueOf(fn)
		registry.Unlock()
	}
}

// applyFunc runs the registered function name on an encoded value (nil:
// none) and returns the encoded result.
func applyFunc(name string, old []byte) ([]byte, error) {
	registry.RLock()
	fn, ok := registry.funcs[name]
	registry.RUnlock()
	if !ok {
		return nil, errorf(ErrNotRegistered, "the function %s is not registered in the manager's process: register it with managers.RegisterFunc in an init function or before mp.Main", name)
	}
	p := reflect.New(fn.Type().In(0))
	if old != nil {
		if err := wire.Decode(old, p.Interface()); err != nil {
			return nil, fmt.Errorf("%w: Modify(%s): the value does not decode as %s: %w", mp.ErrBadMessage, name, p.Elem().Type(), err)
		}
	}
	out, err := invoke(fn, []reflect.Value{p.Elem(), reflect.ValueOf(old != nil)}, typeDict, "Modify("+name+")")
	if err != nil {
		return nil, err
	}
	b, err := wire.Encode(nil, out[0].Interface())
	if err != nil {
		return nil, &RemoteError{TypeID: typeDict, Method: "Modify(" + name + ")", Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}
	}
	return b, nil
}
