package dsr

import (
	"net/netip"
	"slices"
	"time"
)

// Stats is a snapshot of a core's counters since it was created.
type Stats struct {
	// Packets and Bytes count forwarded packets (IP bytes, before
	// encapsulation): the sum over Backends plus what backends that left
	// had forwarded.
	Packets, Bytes uint64
	// Ignored counts packets not addressed to a VIP.
	Ignored uint64
	// Drops counts VIP packets dropped, by reason.
	Drops map[DropReason]uint64
	// ICMPForwarded counts "fragmentation needed" messages sent to the
	// backend of the flow they are about (also counted in Packets).
	ICMPForwarded uint64
	// FlowsCreated counts flows entered in the table; FlowsEvicted those
	// pushed out before their timeout because the table was full.
	FlowsCreated, FlowsEvicted uint64
	// Flows is the number of unexpired flows now; FlowCapacity the bound.
	Flows, FlowCapacity int
	// Backends has one entry per backend in the set now, by address.
	Backends []BackendStats
}

// BackendStats are the counters of one backend.
type BackendStats struct {
	Addr           netip.Addr
	Weight         uint32
	Packets, Bytes uint64
	Flows          uint64 // flows created for it
}

// ForwarderStats are a forwarder's counters: the core's and the I/O's.
type ForwarderStats struct {
	Stats
	// Received counts packets read from the TUN or ring; Sent frames
	// handed to the kernel; SendErrors frames the kernel refused (a full
	// queue, or an unreachable VXLAN destination); Truncated packets
	// larger than a ring frame (IngressPacketRing), dropped.
	Received, Sent, SendErrors, Truncated uint64
	// IngressDrops counts VIP packets the kernel dropped before the
	// forwarder read them, because it fell behind: the TUN's transmit
	// queue overflowed (IngressTUN), or the ring was full
	// (IngressPacketRing).
	IngressDrops uint64
}

// Stats returns the counters; Flows counts against the wall clock. It scans the flow table to count live flows,
// so call it at human rates (a scrape), not per packet.
func (c *Core) Stats() Stats {
	s := Stats{
		Packets:       c.retiredPackets.Load(),
		Bytes:         c.retiredBytes.Load(),
		Ignored:       c.ignored.Load(),
		Drops:         make(map[DropReason]uint64),
		ICMPForwarded: c.icmpSent.Load(),
		FlowsCreated:  c.created.Load(),
		FlowsEvicted:  c.evicted.Load(),
		FlowCapacity:  c.flows.capacity(),
	}
	for r := DropReason(1); r < numDropReasons; r++ {
		if n := c.drops[r].Load(); n > 0 {
			s.Drops[r] = n
		}
	}
	pl := c.pool.Load()
	for _, sl := range pl.slots {
		if !sl.live {
			continue
		}
		b := BackendStats{Addr: sl.addr, Weight: sl.weight, Packets: sl.ctr.packets.Load(), Bytes: sl.ctr.bytes.Load(), Flows: sl.ctr.flows.Load()}
		s.Packets += b.Packets
		s.Bytes += b.Bytes
		s.Backends = append(s.Backends, b)
	}
	slices.SortFunc(s.Backends, func(x, y BackendStats) int { return x.Addr.Compare(y.Addr) })
	now := int64(time.Since(c.epoch))
	for i := range c.flows.buckets {
		bk := &c.flows.buckets[i]
		bk.mu.Lock()
		for _, e := range bk.e {
			if e.expires > now && pl.valid(e.slot, e.gen) {
				s.Flows++
			}
		}
		bk.mu.Unlock()
	}
	return s
}
