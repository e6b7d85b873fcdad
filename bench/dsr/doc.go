// Package dsrbench measures the DSR forwarder end to end in the namespace
// topology of internal/netns/dsrlab, beside the kernel's own IP forwarding
// of the same traffic through the same topology: small UDP packets per
// second and bulk TCP Gbit/s. Run it with ../dsr.sh (root), which repeats
// the runs and prints medians and ratios.
package dsrbench
