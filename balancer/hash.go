package balancer

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Hashing in this package is xxHash64 (Yann Collet's XXH64, the hash Envoy
// and grpc-go use for ring hash), implemented here from the specification so
// that the package stays dependency-free. It is fixed for all time: tables
// built by different processes, machines or versions of this package agree.

const (
	xxPrime1 uint64 = 11400714785074694791
	xxPrime2 uint64 = 14029467366897019727
	xxPrime3 uint64 = 1609587929392839161
	xxPrime4 uint64 = 9650029242287828579
	xxPrime5 uint64 = 2870177450012600261
)

// Fixed seeds, one per use, so that the hashes of one address used for
// different purposes are independent.
const (
	keySeed      uint64 = 0
	flowSeed     uint64 = 0x6c626b69742d666c // "lbkit-fl"
	maglevOffset uint64 = 0x6d61676c65762d6f // "maglev-o"
	maglevSkip   uint64 = 0x6d61676c65762d73 // "maglev-s"
	ringSeed     uint64 = 0x6c626b69742d7267 // "lbkit-rg"
	hrwSeed      uint64 = 0x6c626b69742d6877 // "lbkit-hw"
)

// HashString returns the xxHash64 (seed 0) of s, the key to put in
// [PickInfo.Hash]. It does not allocate.
func HashString(s string) uint64 {
	return xxh64(unsafe.Slice(unsafe.StringData(s), len(s)), keySeed)
}

// HashBytes returns the xxHash64 (seed 0) of b. It does not allocate.
func HashBytes(b []byte) uint64 { return xxh64(b, keySeed) }

func xxRound(acc, in uint64) uint64 {
	acc += in * xxPrime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * xxPrime1
}

func xxMerge(acc, v uint64) uint64 {
	acc ^= xxRound(0, v)
	return acc*xxPrime1 + xxPrime4
}

func xxh64(b []byte, seed uint64) uint64 {
	n := len(b)
	var h uint64
	if n >= 32 {
		v1 := seed + xxPrime1 + xxPrime2
		v2 := seed + xxPrime2
		v3 := seed
		v4 := seed - xxPrime1
		for len(b) >= 32 {
			v1 = xxRound(v1, binary.LittleEndian.Uint64(b[0:8]))
			v2 = xxRound(v2, binary.LittleEndian.Uint64(b[8:16]))
			v3 = xxRound(v3, binary.LittleEndian.Uint64(b[16:24]))
			v4 = xxRound(v4, binary.LittleEndian.Uint64(b[24:32]))
			b = b[32:]
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = xxMerge(h, v1)
		h = xxMerge(h, v2)
		h = xxMerge(h, v3)
		h = xxMerge(h, v4)
	} else {
		h = seed + xxPrime5
	}
	h += uint64(n)
	for ; len(b) >= 8; b = b[8:] {
		h ^= xxRound(0, binary.LittleEndian.Uint64(b[:8]))
		h = bits.RotateLeft64(h, 27)*xxPrime1 + xxPrime4
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b[:4])) * xxPrime1
		h = bits.RotateLeft64(h, 23)*xxPrime2 + xxPrime3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * xxPrime5
		h = bits.RotateLeft64(h, 11) * xxPrime1
	}
	h ^= h >> 33
	h *= xxPrime2
	h ^= h >> 29
	h *= xxPrime3
	h ^= h >> 32
	return h
}

// xxh64String hashes s with seed without allocating.
func xxh64String(s string, seed uint64) uint64 {
	return xxh64(unsafe.Slice(unsafe.StringData(s), len(s)), seed)
}

// mix64 is a bijective 64-bit finalizer (splitmix64's), used to derive
// further independent values from one hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// golden is 2^64/φ, splitmix64's increment.
const golden uint64 = 0x9e3779b97f4a7c15

// fastrange maps x uniformly onto [0, n) with a multiply instead of a
// division (Lemire, "A fast alternative to the modulo reduction").
func fastrange(x uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}
