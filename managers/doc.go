// Package managers is Python's multiprocessing.managers: a server process
// that holds objects (dicts, lists, namespaces, queues, locks, events,
// values, and objects of types a program registers) and proxies through
// which other processes, on this host or others, use them.
//
//	m, err := managers.NewManager() // the server, in a child process
//	if err != nil { ... }
//	defer m.Shutdown()
//	d, _ := managers.NewDict[string, int](m)
//	l, _ := managers.NewList[string](m)
//	p := mp.NewProcess(worker, d, l) // the proxies cross into the child
//	...
//	d.Add("hits", 1) // d[k] += 1, atomic, in the server
//
// Proxies are typed (Dict[K, V], List[T], Queue[T], Value[T]) and each
// method is one round trip to the server, applied there whole: atomic. A
// registered type's methods are reached by name through a Proxy, with
// Call[R] for typed results.
//
// # Servers and connections
//
// NewManager starts the server in a daemon child (orphan-proof like every
// child: it never outlives its parent) listening on a fresh Unix socket
// (TCP on 127.0.0.1 on Windows), with the process tree's key; Address and
// AuthKey choose others. A program serves others with NewServer and
// Serve (Python's serve_forever), and they connect with ConnectManager.
// Every connection is authenticated by package connection (an
// HMAC-SHA256 challenge both ways) before a byte of it is decoded, and
// every message is decoded with mp's codec, which allocates as the bytes
// arrive and refuses a value that would cost its receiver much more than
// its size.
//
// A process's proxies of one manager share its connections (one per
// concurrent call, made as needed, up to 8 kept idle), which form the
// process's session. A proxy that crosses into another process (as an
// argument of a Process, under every start method, or in a message) is
// its manager's address and the object's ID, and the key only if it is not
// the process tree's; it connects at its first call there.
//
// # Lifetime
//
// The server keeps an object while something holds it: a proxy in some
// process (a process's proxies of an object hold it through its session,
// until they are closed or collected, or the process ends), a value stored
// in another of the server's objects that holds its proxy (a dict of
// lists, a queue of dicts: the server finds the proxies in what it
// stores), or its name (see Name: a named object lives as long as the
// server). A proxy encoded to cross into another process some other way (as
// an argument of a Process, or over an mp.Queue or a Conn) holds its
// object until the encoding process ends, so that the decoding process
// finds it even if the sender closed its own proxy meanwhile. A proxy
// whose object is gone fails with ErrObjectGone.
//
// When a process ends, however it ends, its session ends with its
// connections: the server lets go of what the process held, a Lock it held
// is taken over by the next Acquire (ErrOwnerDead), a Barrier it waited at
// breaks, and its waiting calls are cancelled, so that a Get it was
// waiting in takes nothing off a queue.
//
// # Failure
//
// A call whose server dies fails as soon as the connection ends, with an
// error wrapping ErrManagerGone, and so does every later call: nothing
// waits for a server that is gone. (The Manager that NewManager returned
// also watches the server's process, for an OS that keeps a dead
// process's sockets open, as Wine can.) Against a server on another host,
// a silent network failure is noticed when Go's TCP keep-alive probes
// (every 15 s) go unanswered.
//
// # Differences from Python
//
//   - Dict and List are typed, and compare keys and elements by their
//     encodings: 1 and 1.0 are different keys of a Dict[any, V].
//   - Reading a whole Dict or List (Keys, Items, All) takes one snapshot
//     in one round trip, as Python's proxies' items() and l[:] do;
//     iteration never fails.
//   - d[k] += 1 has atomic forms: Dict.Add and Dict.Modify, and
//     Value.Add, Swap and CompareAndSwap.
//   - A Lock whose holder ends is recovered (ErrOwnerDead), where Python's
//     stays locked for ever.
//   - RLock, Condition, Array and Pool are not served: use mp's own
//     (shared memory, one host) or a Lock.
//   - Registered types are registered once per process (Register), not
//     per manager class, and must be registered in the server's process:
//     in an init function, or before mp.Main.
package managers
