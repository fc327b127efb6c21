package robust

import "sync/atomic"

// Table is an array of per-process records in shared memory: each record is
// the owning process's ID and a few 64-bit fields (a backlog count, the
// units of a semaphore a process holds, ...). A process claims a record on
// first use; the record of a dead process is given back by whoever notices
// the death (Reap), after folding its fields into shared totals.
//
// Layout, TableSize(slots, fields) bytes at an 8-byte aligned offset: a
// high-water mark (records at or above it have never been used), then the
// records, each an owner ID followed by its fields. A free record has a zero
// owner and zero fields.
type Table struct {
	mem    []byte
	off    int
	slots  int
	fields int
	hwm    *atomic.Uint64
}

// TableSize returns the size of a Table of slots records of fields fields.
func TableSize(slots, fields int) int { return 8 + slots*(1+fields)*8 }

// NewTable returns this process's handle on the Table at off in mem.
func NewTable(mem []byte, off, slots, fields int) *Table {
	check(mem, off, 8)
	check(mem, off+TableSize(slots, fields)-8, 8)
	return &Table{mem: mem, off: off, slots: slots, fields: fields, hwm: Uint64At(mem, off)}
}

// Len returns the high-water mark: records at or above it are free.
func (t *Table) Len() int { return int(min(t.hwm.Load(), uint64(t.slots))) }

func (t *Table) recordOff(slot int) int { return t.off + 8 + slot*(1+t.fields)*8 }

// Owner returns the ID of the process that owns the record; 0 if free.
func (t *Table) Owner(slot int) ID { return ID(Uint64At(t.mem, t.recordOff(slot)).Load()) }

// FieldOff returns the offset in mem of a record's field, for Mutex.Stage.
func (t *Table) FieldOff(slot, field int) int {
	if field < 0 || field >= t.fields {
		panic("mp: robust: no such table field")
	}
	return t.recordOff(slot) + 8 + 8*field
}

// Field returns a record's field, for atomic access. A live process may
// change its own record's fields without the lock, with atomic operations,
// as long as it never also stages them.
func (t *Table) Field(slot, field int) *atomic.Uint64 {
	return Uint64At(t.mem, t.FieldOff(slot, field))
}

// Find returns the slot of id's record; -1 if it has none.
func (t *Table) Find(id ID) int {
	for i := range t.Len() {
		if t.Owner(i) == id {
			return i
		}
	}
	return -1
}

// Claim returns the slot of id's record, claiming a free one for it if it
// has none. m is the mutex that guards the table, and is held; Claim
// commits. It returns ErrTableFull when every record is owned: Reap may
// free the records of dead processes.
func (t *Table) Claim(m *Mutex, id ID) (int, error) {
	if i := t.Find(id); i >= 0 {
		return i, nil
	}
	n := t.Len()
	slot := -1
	for i := range n {
		if t.Owner(i) == 0 {
			slot = i
			break
		}
	}
	if slot < 0 {
		if n == t.slots {
			return -1, ErrTableFull
		}
		slot = n
		m.Stage(t.off, uint64(n+1))
	}
	m.Stage(t.recordOff(slot), uint64(id))
	m.Commit()
	return slot, nil
}

// Free stages, in m's journal, the freeing of a record: its owner and
// fields set to zero. The caller stages whatever folds the fields into
// totals, then commits. Free stages 1+fields updates.
func (t *Table) Free(m *Mutex, slot int) {
	m.Stage(t.recordOff(slot), 0)
	for f := range t.fields {
		m.Stage(t.FieldOff(slot, f), 0)
	}
}

// Reap frees the records of dead processes, with m held. For each record
// that want selects (nil: all) and whose owner is dead, fold stages
// updates that give its fields back (it may be nil), then Reap stages the
// freeing and commits. It returns how many records it freed. Each record
// costs a liveness check, a system call: want lets callers skip records
// with nothing to give back.
func (t *Table) Reap(m *Mutex, want func(slot int) bool, fold func(slot int)) int {
	freed := 0
	for i := range t.Len() {
		o := t.Owner(i)
		if o == 0 || (want != nil && !want(i)) || Alive(o) {
			continue
		}
		if fold != nil {
			fold(i)
		}
		t.Free(m, i)
		m.Commit()
		freed++
	}
	return freed
}
