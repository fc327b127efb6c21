package mp

// DisablePdeathsig makes this process start children without
// PR_SET_PDEATHSIG, leaving the lifeline as their only tie to it.
func DisablePdeathsig() { noPdeathsig = true }
