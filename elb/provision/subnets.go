package provision

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lbkit/lbkit/elb"
)

// DiscoverSubnets returns the subnets a load balancer of type t and scheme
// s would get without explicit subnets: those tagged
// kubernetes.io/role/elb (internet-facing) or kubernetes.io/role/internal-elb
// (internal), plus every tag of sel, in vpc ("" for any), and — when
// Options.ClusterName is set — tagged kubernetes.io/cluster/<name>. One
// subnet per availability zone: the lowest subnet ID, so the choice is
// the same on every run. An ALB needs two zones; too few is ErrSubnets.
func (p *Provisioner) DiscoverSubnets(ctx context.Context, t elb.LoadBalancerType, s elb.Scheme, sel *elb.SubnetSelector, vpc string) ([]string, error) {
	var filters []ec2types.Filter
	if sel != nil && len(sel.Tags) > 0 {
		for _, k := range sortedKeys(sel.Tags) {
			if v := sel.Tags[k]; v == "" {
				filters = append(filters, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{k}})
			} else {
				filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{v}})
			}
		}
	} else {
		role := elb.TagRoleELB
		if s == elb.SchemeInternal {
			role = elb.TagRoleInternalELB
		}
		filters = append(filters, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{role}})
	}
	if p.opts.ClusterName != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:kubernetes.io/cluster/" + p.opts.ClusterName), Values: []string{"owned", "shared"}})
	}
	if vpc != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{vpc}})
	}
	byAZ := map[string]string{}
	pg := ec2.NewDescribeSubnetsPaginator(p.opts.EC2, &ec2.DescribeSubnetsInput{Filters: filters})
	for pg.HasMorePages() {
		out, err := call(ctx, p, "DescribeSubnets", func(ctx context.Context) (*ec2.DescribeSubnetsOutput, error) { return pg.NextPage(ctx) })
		if err != nil {
			return nil, err
		}
		for _, sn := range out.Subnets {
			az, id := aws.ToString(sn.AvailabilityZone), aws.ToString(sn.SubnetId)
			if cur, ok := byAZ[az]; !ok || id < cur {
				byAZ[az] = id
			}
		}
	}
	ids := make([]string, 0, len(byAZ))
	for _, id := range byAZ {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	need := 1
	if t == elb.LoadBalancerTypeApplication || t == "" {
		need = 2
	}
	if len(ids) < need {
		return nil, fmt.Errorf("%w: %s load balancer (%s) needs subnets in %d availability zones, found %d matching %v", ErrSubnets, t, s, need, len(ids), filterString(filters))
	}
	return ids, nil
}

func filterString(fs []ec2types.Filter) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s=%v", aws.ToString(f.Name), f.Values))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
