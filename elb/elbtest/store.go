package elbtest

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Snapshot is the whole state of an endpoint: what the -state file holds
// and what a [Live] implementation reads. Records use the SDK's own types
// for what the API describes, so a snapshot reads like a describe.
type Snapshot struct {
	Region    string
	AccountID string
	// Counter feeds ID generation, so IDs stay unique across a restart.
	Counter uint64

	VPCs           map[string]*VPC
	Subnets        map[string]*Subnet
	SecurityGroups map[string]*SecurityGroup
	// EC2Tags are the tags of EC2 resources, by resource ID.
	EC2Tags map[string][]EC2Tag

	LoadBalancers map[string]*LoadBalancerRecord
	TargetGroups  map[string]*TargetGroupRecord
	Listeners     map[string]*ListenerRecord
	Rules         map[string]*RuleRecord
	// Tags are the tags of ELBv2 resources, by ARN, in the order added.
	Tags map[string][]types.Tag
}

// VPC is an EC2 VPC.
type VPC struct {
	ID        string
	CIDR      string
	IsDefault bool
	Seq       uint64
}

// Subnet is an EC2 subnet in one availability zone.
type Subnet struct {
	ID, VPCID, CIDR          string
	AvailabilityZone, ZoneID string
	DefaultForAZ, MapPublic  bool
	Seq                      uint64
}

// SecurityGroup is an EC2 security group (its rules are not modeled).
type SecurityGroup struct {
	ID, Name, Description, VPCID string
	Seq                          uint64
}

// EC2Tag is one EC2 tag.
type EC2Tag struct{ Key, Value string }

// LoadBalancerRecord is a load balancer as the endpoint keeps it.
type LoadBalancerRecord struct {
	LoadBalancer types.LoadBalancer
	Attributes   map[string]string
	// ActiveAt is when "provisioning" becomes "active".
	ActiveAt time.Time
	Seq      uint64
}

// TargetGroupRecord is a target group with its registered targets.
type TargetGroupRecord struct {
	TargetGroup types.TargetGroup
	Attributes  map[string]string
	Targets     []*TargetRecord
	Seq         uint64
}

// TargetRecord is one registration of a target (ID and port) in a
// target group.
type TargetRecord struct {
	ID               string
	Port             int32
	AvailabilityZone string
	RegisteredAt     time.Time
	// DeregisteredAt is set while the target drains; it disappears when
	// the group's deregistration delay has passed.
	DeregisteredAt time.Time
}

// ListenerRecord is a listener; its rules are RuleRecords that name it.
type ListenerRecord struct {
	Listener   types.Listener
	Attributes map[string]string
	// ExtraCertificates are the certificates added with
	// AddListenerCertificates, beyond the default one.
	ExtraCertificates []string
	Seq               uint64
}

// RuleRecord is a listener rule, the default rule included.
type RuleRecord struct {
	Rule        types.Rule
	ListenerArn string
	// ChangedAt is when the rule's actions were last set: a target group
	// it forwards to is in use, and health checked, from then.
	ChangedAt time.Time
	Seq       uint64
}

// store is the endpoint's state behind one lock. Mutating operations
// validate everything before they change anything, under the write lock,
// so a failed call leaves no trace; describes take the read lock and
// compute time-dependent views (LB state, target health, draining) without
// writing.
type store struct {
	mu   sync.RWMutex
	opts *Options
	d    Snapshot
}

func newStore(opts *Options) *store {
	return &store{opts: opts, d: Snapshot{
		Region:         opts.Region,
		AccountID:      opts.AccountID,
		VPCs:           map[string]*VPC{},
		Subnets:        map[string]*Subnet{},
		SecurityGroups: map[string]*SecurityGroup{},
		EC2Tags:        map[string][]EC2Tag{},
		LoadBalancers:  map[string]*LoadBalancerRecord{},
		TargetGroups:   map[string]*TargetGroupRecord{},
		Listeners:      map[string]*ListenerRecord{},
		Rules:          map[string]*RuleRecord{},
		Tags:           map[string][]types.Tag{},
	}}
}

// next returns the next sequence number; it orders describes by creation
// and seeds IDs.
func (s *store) next() uint64 {
	s.d.Counter++
	return s.d.Counter
}

// randomBytes derives n bytes from the seed and a fresh counter value:
// deterministic for a seed, unique across restarts (the counter persists).
func (s *store) randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(s.opts.Seed, s.next()^0x9e3779b97f4a7c15))
	b := make([]byte, (n+7)/8*8)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

func (s *store) hexID(n int) string { return hex.EncodeToString(s.randomBytes((n + 1) / 2))[:n] }

func (s *store) arn(resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", s.opts.Region, s.opts.AccountID, resource)
}

// zones are the endpoint's availability zones: the region plus a, b, c.
func (s *store) zones() []string {
	return []string{s.opts.Region + "a", s.opts.Region + "b", s.opts.Region + "c"}
}

// zoneID maps "us-east-1b" to an AWS-style zone ID, "use1-az2".
func (s *store) zoneID(zone string) string {
	parts := strings.Split(s.opts.Region, "-")
	short := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		short += p[:1]
	}
	short += parts[len(parts)-1]
	return fmt.Sprintf("%s-az%d", short, int(zone[len(zone)-1]-'a')+1)
}

// createDefaultVPC makes what every AWS account starts with: a default VPC
// 172.31.0.0/16, one default subnet per zone and a "default" security
// group.
func (s *store) createDefaultVPC() {
	vpc := &VPC{ID: "vpc-" + s.hexID(17), CIDR: "172.31.0.0/16", IsDefault: true, Seq: s.next()}
	s.d.VPCs[vpc.ID] = vpc
	s.addDefaultSG(vpc.ID)
	for i, z := range s.zones() {
		sn := &Subnet{ID: "subnet-" + s.hexID(17), VPCID: vpc.ID, CIDR: fmt.Sprintf("172.31.%d.0/20", i*16),
			AvailabilityZone: z, ZoneID: s.zoneID(z), DefaultForAZ: true, MapPublic: true, Seq: s.next()}
		s.d.Subnets[sn.ID] = sn
	}
}

func (s *store) addDefaultSG(vpcID string) *SecurityGroup {
	sg := &SecurityGroup{ID: "sg-" + s.hexID(17), Name: "default", Description: "default VPC security group", VPCID: vpcID, Seq: s.next()}
	s.d.SecurityGroups[sg.ID] = sg
	return sg
}

func (s *store) defaultSG(vpcID string) string {
	for _, sg := range s.d.SecurityGroups {
		if sg.VPCID == vpcID && sg.Name == "default" {
			return sg.ID
		}
	}
	return ""
}

// Snapshot returns a deep copy of the endpoint's state.
func (s *Server) Snapshot() *Snapshot {
	s.st.mu.RLock()
	b, err := json.Marshal(&s.st.d)
	s.st.mu.RUnlock()
	if err != nil {
		panic(fmt.Sprintf("elbtest: snapshot: %v", err)) // every field is plain data
	}
	var out Snapshot
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("elbtest: snapshot: %v", err))
	}
	return &out
}

// sortedBySeq returns the values of m ordered by creation.
func sortedBySeq[T any](m map[string]*T, seq func(*T) uint64) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}
