package mp

// DefaultMaxMessage is the largest message a Conn or Queue accepts unless
// told otherwise (SetMaxMessage): 64 MiB. A frame announcing more is
// refused before anything is allocated for it.
const DefaultMaxMessage = 64 << 20
