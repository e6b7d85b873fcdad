package dsr

import (
	"math/bits"
	"sync"
)

// flowWays is the associativity of the flow table: a flow lives in one of
// the flowWays entries of the bucket its hash selects. Four 32-byte
// entries fill two cache lines.
const flowWays = 4

type flowEntry struct {
	key flowKey
	// slot and gen name the backend: the slot in the pool and the
	// generation of the backend that held it when the flow was created, so
	// a flow never follows a slot reused by another backend.
	slot    uint16
	closing bool // a FIN or RST was seen: the short timeout applies
	gen     uint32
	// expires is the deadline, in nanoseconds on the core's clock; 0 marks
	// a free entry.
	expires int64
}

type flowBucket struct {
	mu sync.Mutex
	e  [flowWays]flowEntry
}

// flowTable is a bounded, set-associative flow table, as a CPU cache is:
// its memory is allocated once; a new flow takes a free or expired entry of
// its bucket, else evicts the entry closest to expiry (Katran's per-CPU LRU
// plays the same role). A lock per bucket keeps contention to flows that
// share a bucket.
type flowTable struct {
	buckets []flowBucket
	mask    uint64
}

func newFlowTable(capacity int) *flowTable {
	n := max(capacity/flowWays, 1)
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	return &flowTable{buckets: make([]flowBucket, n), mask: uint64(n - 1)}
}

func (t *flowTable) capacity() int { return len(t.buckets) * flowWays }

// bucket uses the hash's high bits: the low bits pick the backend, and
// flows of one bucket should not all share a backend.
func (t *flowTable) bucket(h uint64) *flowBucket {
	return &t.buckets[(h>>32)&t.mask]
}
