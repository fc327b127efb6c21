// Package mp runs Go functions in child processes the way Python's
// multiprocessing does: a [Process] with Start, Join, IsAlive and Terminate,
// three start methods, and errors that bring the child's panic and stack
// home.
//
// Go cannot fork(2) a running runtime, so every child is the same binary
// re-executed. The child learns what to run over an inherited channel (never
// argv or the environment, which other users can read), runs it, reports
// back over a second pipe and exits.
//
// # The main guard
//
// [Main] is the first statement of main, and of TestMain in tests:
//
//	func worker(name string) { fmt.Println("hello", name) }
//
//	func main() {
//		mp.Main(worker) // in a child: runs the target and exits
//		defer mp.Shutdown()
//		p := mp.NewProcess(worker, "bob")
//		if err := p.Start(); err != nil { log.Fatal(err) }
//		if err := p.Join(); err != nil { log.Fatal(err) }
//	}
//
// In the parent Main registers the targets and returns. In a child it runs
// the target and exits with its exit code; it never returns. Everything
// before it, package initialisation included, runs again in every child: it
// is the Go counterpart of Python re-importing the main module. A child that
// reaches Start without having passed Main gets [ErrMainGuard] and starts
// nothing, and its parent's Join reports it, so a forgotten guard can never
// start processes without end.
//
// # Targets
//
// A target is a top-level function with any parameters that returns nothing
// or an error, or a [Runner] (Python's Process subclass with run). A
// function whose first parameter is a context.Context gets a context
// that is cancelled when the child is asked to stop or its parent dies
// (see Process.GracePeriod); Args fill the parameters after it. A
// [RunnerContext] is the Runner that takes one. Targets
// are registered by passing them to Main, or with [Register] from the init
// function of the package that defines them. Arguments are checked against
// the parameter types at Start and carried as values (see Values below); a
// closure, an unregistered function, arguments of the wrong number or type,
// or one that cannot be encoded make Start fail and start nothing.
//
// # Start methods
//
//	method      child starts from           carried to the child                        OS
//	Spawn       the program's initial state target, arguments                           all (default)
//	Fork        the program's initial state target, arguments, globals registered with  all
//	                                        isolation.Inherit (values as of Start)
//	Forkserver  the program's initial state target, arguments; the child was started    all
//	                                        ahead of time and waited (see Forkserver)
//
// Under all three, the child runs in the parent's environment and working
// directory as of Start (or Process.Env and Process.Dir), with the parent's
// os.Args, and inherits the parent's standard output and error unless
// Process.Stdout and Stderr say otherwise. Standard input is the null device.
// Nothing else crosses: goroutines, open files and connections, locks, and
// every variable not registered with isolation.Inherit start afresh. A real
// fork would copy all memory and descriptors, but Go cannot fork a running
// multi-threaded runtime (golang/go#14767); see package isolation.
//
// # Forkserver
//
// [Forkserver] pays a child's start-up ahead of time, as Python's method of
// that name does. Go cannot fork, so its children are the program
// re-executed, as Spawn's, but before they are needed: each runs the
// program's initialisation and main up to mp.Main, says it is there, and
// waits, running nothing else, until a Start sends it work over the
// channel it was started with; a goroutine then starts another in its
// place, one at a time. A Start then costs what sending the work costs,
// tens of microseconds, rather than a program's start-up, milliseconds
// (BenchmarkForkserver). How many wait is [SetForkserverPreload]'s
// (DefaultForkserverPreload unless set); none waits until Forkserver is
// first used, or after [Shutdown], and a Start that finds none waiting, or
// none that fits, is cold: it starts its child as Spawn does.
//
// A waiting child was started as Spawn would start the child of a Process
// with nothing set, at that moment: the program spawn.Executable named, the
// parent's os.Args, environment and working directory, the null device for
// standard input, and the process's own standard output and error (the
// files behind its descriptors 1 and 2, whatever os.Stdout says). A Start
// uses one only if its own child would be started the same way now:
//
//   - A Process whose Env differs from that environment, or whose Dir is
//     set, is a cold start: what the program did before mp.Main may depend
//     on them, and a child must start from the state Spawn's would.
//   - If the parent's environment, working directory, os.Args or
//     executable have changed since, the waiting children are ended, a
//     Start is cold, and their replacements are started as things are now.
//   - Stdin, Stdout and Stderr (and os.Stdout and os.Stderr, if a program
//     has set them to other files) are given to the child with its work on
//     Unix: it makes them its descriptors 0, 1 and 2 with dup2 before its
//     target runs, so that everything that writes to them, loggers made at
//     initialisation included, uses them; a Writer that is not a file is
//     fed through a pipe, as os/exec does. On Windows, where no call puts
//     another file behind a standard handle that a program holds, such a
//     Process is a cold start.
//   - A Process with a GracePeriod is a cold start: its child is started
//     otherwise (no PR_SET_PDEATHSIG on Linux, a Job Object of its own on
//     Windows), and the waiting children are started without one.
//
// What a waiting child's initialisation prints goes to the process's own
// standard output and error, when it starts, not to its Process's. Waiting
// children are not children of the program yet: [ActiveChildren] does not
// list them, Shutdown and SetForkserverPreload(0) end them, and each dies
// with its parent like every child (see No orphans). One that dies while it
// waits is replaced; one that exits before it reaches mp.Main (a program
// that does not call it) makes SetForkserverPreload fail, and none is
// started again for a second. Each costs its memory (a Go program's private
// memory, about a megabyte: see bench/compare) and a goroutine of its
// parent that watches it; a test that checks for leaked goroutines calls
// Shutdown first.
//
// # Pipes and queues
//
// Processes share no memory; they talk over a [Pipe] (two connected
// [Conn]s), a [Queue], [JoinableQueue] or [SimpleQueue], or a connection
// from package connection's Listener and Client (Python's
// multiprocessing.connection, with Wait). Values travel encoded (Send, Put;
// see Values below); bytes travel as they are (SendBytes), each message
// whole, an empty one included.
//
//	func worker(q *mp.Queue, c *mp.Conn) error {
//		var job string
//		if err := q.Get(&job); err != nil { return err }
//		return c.Send("done: " + job)
//	}
//
//	q, _ := mp.NewQueue(0)
//	a, b, _ := mp.Pipe(true)
//	p := mp.NewProcess(worker, q, b)
//	p.Start()
//	q.Put("wash")
//	var reply string
//	a.Recv(&reply)
//
// [TypedQueue] and [RecvAs] are the typed forms.
//
// A Conn or a queue reaches a child as an argument of a Process, a field
// of a Runner, or a Fork global, however deep inside them (behind
// pointers, in exported fields, slices, maps and interfaces), under either
// start method, and the child may pass it on. Start finds them and passes
// their files (a Conn's pipe ends, a queue's shared memory) after the
// bootstrap: on Unix over the boot channel, a Unix-domain socket
// (SCM_RIGHTS), so that os/exec never switches them to blocking mode for
// every process that shares them; on Windows by duplicating the handles
// into the child. A Conn or queue sent any other
// way (on a Conn, say) decodes only in a process that holds it, as a value
// sharing the same files; elsewhere decoding fails with ErrNotPassable.
//
// A queue is a ring of bytes in memory that every process holding it maps
// (memfd_create on Linux, a paging-file section on Windows), guarded by a
// lock that records its holder's process identity (PID and start time, so
// a reused PID cannot pass for it). Put copies an item into free space and
// then commits the new tail and the counts in one journaled step; Get
// copies one out and commits the new head. Whoever dies, at whatever
// instant (SIGKILL included), the others go on: a waiter checks a holder's
// life every 100 ms and takes a dead one's lock over, finishing its
// journaled step if it had begun it, so no item is ever torn, interleaved
// or duplicated. An item larger than a quarter of the ring streams through
// it while its reader copies it out; a dead writer's item is dropped, a
// dead reader's is drained by the next. What a dead process loses is what
// it held: the items it had put and not yet written, or the one it was
// reading; Qsize, a bounded queue's capacity and JoinableQueue's count
// come back once its death is noticed.
//
// As in Python, Put does not wait for room (a bounded queue waits for a
// place): an item that does not fit goes to this process's backlog, which
// a goroutine (the feeder) writes in order as room appears. When a child
// exits, its children have been joined, and its feeders have written what
// readers took, the rest goes to its parent inside its exit report, and
// the parent puts it on the queue before Join returns: Python's child would
// wait for its feeder for ever (bpo-29797). A parent that no longer holds
// the queue passes such items up to its own parent; if they reach no
// holder, Join's error says how many were lost ([ErrItemsLost]).
//
// A frame on a pipe or connection is Python's: a 4-byte big-endian length
// and the message, or, for a message over 2 GiB - 1 bytes, -1 and an
// 8-byte length before it, so that a Go and a Python process can talk
// over a socket (see package connection).
// A frame over the maximum ([DefaultMaxMessage], 64 MiB, unless
// SetMaxMessage says otherwise), a truncated frame or garbage gives an
// error (ErrMessageTooLarge, ErrBadMessage), and memory is allocated as the
// bytes arrive, never on a frame's word alone. Package connection's
// Listener authenticates each connection both ways with an HMAC-SHA256
// challenge on the key of the process tree (Process.AuthKey) before it
// decodes a byte.
//
// Poll never disturbs a receive in progress in another goroutine, and a
// receive never fails because of a Poll: Poll waits for the descriptor
// without setting a deadline on it.
//
// # Static linking
//
// Package mp imports neither net nor os/user, so a program that imports
// only mp (and mp/isolation) is statically linked on Linux, and its
// children start without the dynamic loader: about 0.7 ms less per start
// here (see BenchmarkStartJoinProgram). Listener and Client live in package
// connection, which needs net.
//
// # Values
//
// Arguments, a Runner's fields, Fork globals, and what Send and Put carry
// are encoded in CBOR (RFC 8949), with github.com/fxamacker/cbor, and
// decoded into a variable of the receiver's choosing: the same type, or
// one of the same shape (struct fields match by name; a field the other
// side lacks is skipped).
//
//   - Anything made of numbers, strings, bools, []byte, slices, arrays,
//     maps, structs and pointers crosses; so do time.Time (to the
//     nanosecond, with its offset from UTC, in the years 0 to 9999 that
//     RFC 3339 can write) and types that implement
//     encoding.BinaryMarshaler and BinaryUnmarshaler. Channels,
//     functions and complex numbers do not.
//   - nil crosses as nil: Put(nil) (an untyped nil, a nil pointer, a nil
//     slice or map) makes Get set its variable to the zero value, nil for
//     a pointer or interface, so Python's None poison pill ports directly.
//   - A received value replaces the variable's old value: no field of it
//     survives.
//   - A struct's fields must be exported. An unexported field is refused
//     (Send, Put and Start return [ErrBadMessage] naming it), unless the
//     field is tagged `mp:"-"`, which leaves it behind (zero on the other
//     side), or the type implements encoding.BinaryMarshaler. Struct tags
//     `cbor:"name"`, or failing that `json:"name"`, rename a field, and
//     "-" or omitempty drop it, as encoding/json does.
//   - A value nested deeper than [MaxDepth] levels (10 000: each pointer,
//     struct, slice, map and interface a level), such as a cycle of
//     pointers, is refused; it never overflows the stack.
//   - A named type carried inside an interface value (a field of type
//     any or error, an element of a []any) must be registered, in every
//     process, with [RegisterType]: the receiver then decodes it as that
//     type. An interface holding a builtin value decodes as the codec's
//     generic form: integers as int64 (a big.Int beyond its range),
//     floats as float64, strings, []byte, bools, nil, time.Time, slices
//     as []any and maps as map[any]any.
//
// Decoding is meant for input from a hostile peer: a malformed message, one
// of the wrong type, or one that would make the receiver allocate more than
// 48 times its size for what it decodes (a slice of large structs sent as
// empty maps, say; a legitimate message made of little but empty maps
// can be refused too) is ErrBadMessage, never a panic or a crash; with the
// decoder's own overheads, a message costs its receiver at most about 64
// times its size, which a fuzzer checks.
//
// # Synchronisation
//
// [Lock], [RLock], [Semaphore] (and NewBoundedSemaphore), [Event],
// [Condition] and [Barrier] are Python's synchronisation primitives for
// processes. Each lives in a shared memory segment of its own
// (internal/shm, internal/robust) and crosses into children as a Queue
// does; a process has one hold on it however often it is passed. Taking a
// free Lock is one atomic compare-and-swap; waiting is a futex on Linux and
// a poll backing off to 1 ms elsewhere.
//
// Unlike Python's, they survive the death of a process that takes part: a
// Lock or RLock whose holder dies is taken over by the next Acquire, which
// returns [ErrOwnerDead] holding it; the units of a Semaphore held by a
// dead process are given back (the Acquire that gets one returns
// ErrOwnerDead); a Condition's Notify never counts a dead waiter; a dead
// party breaks a Barrier ([ErrBrokenBarrier]) for the others. Each within
// about 0.1 s of the death. A Lock is held by a process, an RLock by a
// goroutine (see their docs).
//
// # Shared memory
//
// [Value] and [Array] (and [RawValue], [RawArray], without a lock) are
// Python's sharedctypes for the fixed-size number types ([Number] maps
// Python's typecodes): numbers in anonymous shared memory that cross into
// children as arguments or Runner fields and are read and written in
// place, with no copy. Their Load, Store, Add and CompareAndSwap are
// atomic in every process; GetLock returns the lock for compound updates;
// Array.Slice is the memory as a Go slice, for bulk work. Their memory
// goes with the last process that maps it.
//
// [SharedMemory] is Python's shared_memory.SharedMemory: a block with a
// name that any program can open ([OpenSharedMemory]), /dev/shm/NAME on
// Linux as Python's and shm_open's. Unlike Python's resource tracker,
// which removes a name when one of its users ends and leaks those of a
// tree killed with SIGKILL, a cleanup process (the program run again, in
// a session of its own) removes the names that a tree of processes made
// once the whole tree has ended, however it ended, and never while a
// process of the tree that uses the block lives; see SharedMemory.
//
// All of them cross into children under every start method, and on to
// grandchildren, mapping the same memory. A child waiting for work under
// Forkserver belongs to its starter's tree (the tree is part of the
// environment it was started with) but holds none of its shared memory
// until a Start gives it some: it keeps no name alive.
//
// # Pools
//
// A [Pool] is Python's multiprocessing.Pool: worker processes that run a
// registered task function on many items. [Map], [Imap], [ImapUnordered],
// [Starmap], [Apply] and their Async and Context forms are typed: a wrong
// function or item type does not compile. A task function takes an item
// and returns a result and an error, func(T) (R, error): an error is how a
// Go function fails, and one form keeps the type parameters inferred
// (mp.Map(p, sqr, items), never mp.Map[int, int]); a panic fails its task
// too. Items, results and error texts cross with the package's codec.
//
//	func sqr(x int) (int, error) { return x * x, nil }
//
//	func main() {
//		mp.Main(mp.Task(sqr)) // Task: the workers call sqr without reflect
//		p, _ := mp.NewPool(4)
//		defer p.Join()
//		defer p.Close()
//		squares, err := mp.Map(p, sqr, []int{1, 2, 3})
//		...
//	}
//
// The pool feeds each worker from a goroutine of its own, a chunk of tasks
// at a time, so it knows what a worker held when it dies: a worker killed,
// calling os.Exit or dying of a fatal runtime error fails exactly those
// tasks with its [*ExitError], a new worker takes its place, and the other
// tasks go on. Python's Pool hangs then, and ProcessPoolExecutor fails
// every task. A task that panics or returns an error fails alone too, with
// the panic's stack; see [TaskError]. A pool can also bound a task's time
// ([WithTaskTimeout]) and a worker's memory ([WithMaxMemory]). Under
// Forkserver ([WithStartMethod]) its workers, and the workers that replace
// them, are children that waited.
//
// # Exit codes and errors
//
// Exit codes are Python's: 0 when the target returns (or returns a nil
// error); 1 when it returns an error, panics or calls runtime.Goexit (as
// t.FailNow does; its deferred calls run first); -N when the child is killed
// by signal N ([Process.Terminate] gives -15 and [Process.Kill] -9 on every
// OS); N when the target calls os.Exit(N); 2 when the Go runtime dies of a
// fatal error, such as a panic in a goroutine the target started. Join
// returns nil for a child that ran its target and exited with 0, and
// otherwise an [*ExitError] with the code, the
// target's error text, or the panic value and stack, or the runtime's crash
// output. A failing child also says so on its own standard error, as
// Python's does ("Process Process-1:", then the panic and stack, or the
// error), so that a program that never looks at Join's error does not hide
// a crash; Process.Quiet and SetQuiet silence it.
//
// # No orphans
//
// A child never outlives its parent, however the parent ends (returning from
// main, os.Exit, a panic, SIGKILL), by more than its Process.GracePeriod,
// which is zero unless set. Every child watches a lifeline: the parent
// holds the write end of its bootstrap pipe open and never writes to it
// again (but for a request to stop, on Windows), so end of file means the
// parent is gone, and the child exits at once; a child with a grace period
// sees ParentProcess().Done() close and its target's context cancelled
// (with ErrParentDied), and exits once its target returns, or when the
// grace period ends. On Linux the child also has PR_SET_PDEATHSIG set to SIGKILL, from a
// thread that lives as long as the children it created (golang/go#27505). On
// Windows each child is in its own Job Object with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE. On macOS and the BSDs the lifeline
// alone does it: the kernel closes the parent's end of the pipe however the
// parent dies, and only the parent holds it (it is close-on-exec), so end of
// file is an exact death notice. A kqueue EVFILT_PROC watch would add
// nothing but a watch by PID, which may have been reused. A child with a
// grace period relies on its lifeline alone on every OS: on Linux it has
// no PR_SET_PDEATHSIG, and on Windows it breaks away from its parent's
// jobs (where they allow it) and holds its own job open. It learns of its
// parent's death once it runs, that is once it has reached mp.Main.
//
// Python instead joins non-daemon children and terminates daemon children
// when the main module ends. To get that, call
//
//	defer mp.Shutdown()
//
// right after Main. A daemon process may not start children ([ErrDaemonic]).
//
// # Platform notes
//
// Signals and waits go through the handle os.Process holds (a pidfd on
// Linux, a process handle or Job Object on Windows), never a bare PID. On
// Unix the child's channels are its descriptors 3 (the boot channel, a
// Unix-domain socket) and 4 (the report pipe). On Windows they reach the
// child as inherited handles (SysProcAttr.AdditionalInheritedHandles), the
// files of the connections and queues it is given are duplicated into it,
// and the parent puts the child in its Job Object before sending it any
// work, so no target code runs outside the job.
//
// On every OS children are started in a process group of their own, so a
// Ctrl-C at the terminal or console reaches the parent, which decides what
// its children get (Python's children would get it too). A parent that dies
// of it takes its children with it.
//
// Process.Status reads the scheduler state from /proc on Linux and from
// ps(1) on macOS and the BSDs; Windows reports none, so a live child there
// is StateRunning.
//
// Anonymous pipes on Windows have no read deadlines, so a timed Recv or
// Poll there looks at the pipe with PeekNamedPipe (and Poll of a socket
// with WSAPoll), backing off up to 5 ms. A queue waits in the kernel on
// Linux (futex); elsewhere it looks at the shared memory, backing off from
// 50 µs to 1 ms. On macOS and the BSDs a queue's memory is a temporary
// file removed at once, and a process's identity is read with sysctl;
// both are only cross-compiled here. A Listener on Windows uses loopback
// TCP (Go has no named pipes, and Wine no AF_UNIX).
package mp
