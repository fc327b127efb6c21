// Package tutorial holds the steps of the classic Python multiprocessing
// tutorial (UDP, scheduling, creating processes, join, isolation, the main
// guard, process object methods, queues and pipes, pools, managers)
// written with mp. Each program under
// examples/ runs one step; examples/tour runs them all in the tutorial's
// order.
//
// Every child-process target lives here and is registered with mp.Register
// from init, so a program that imports the package only has to call
// mp.Main() first thing in main. Steps print to standard output, and so do
// their children, which inherit it; lines printed by a process start with
// its PID, as the tutorial's prints of os.getpid() do.
package tutorial
