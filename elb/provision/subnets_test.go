package provision_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

func TestDiscoverSubnets(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 8}) // all three default subnets: elb and internal-elb
	ctx := context.Background()
	sn, err := e.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	byAZ := map[string]string{}
	var all []string
	for _, s := range sn.Subnets {
		byAZ[*s.AvailabilityZone] = *s.SubnetId
		all = append(all, *s.SubnetId)
	}
	slices.Sort(all)
	// A second subnet in one zone: only one subnet per zone is chosen.
	extra, err := e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: sn.Subnets[0].VpcId, CidrBlock: aws.String("172.31.200.0/24"),
		AvailabilityZone: sn.Subnets[0].AvailabilityZone,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSubnet,
			Tags: []ec2types.Tag{{Key: aws.String(elb.TagRoleELB), Value: aws.String("1")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	perAZ := slices.Clone(all)
	if id := *extra.Subnet.SubnetId; id < byAZ[*sn.Subnets[0].AvailabilityZone] {
		perAZ[slices.Index(perAZ, byAZ[*sn.Subnets[0].AvailabilityZone])] = id
		slices.Sort(perAZ)
	}
	// Two subnets tagged for cluster "c1", one for "c2".
	tag := func(ids []string, k, v string) {
		if _, err := e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	tag(all[:2], "kubernetes.io/cluster/c1", "owned")
	tag(all[2:], "kubernetes.io/cluster/c2", "shared")

	tests := []struct {
		name    string
		cluster string
		typ     elb.LoadBalancerType
		scheme  elb.Scheme
		sel     *elb.SubnetSelector
		want    []string
		err     error
	}{
		{"internet-facing ALB, one per zone", "", elb.LoadBalancerTypeApplication, elb.SchemeInternetFacing, nil, perAZ, nil},
		{"internal ALB", "", elb.LoadBalancerTypeApplication, elb.SchemeInternal, nil, all, nil},
		{"cluster c1", "c1", elb.LoadBalancerTypeApplication, elb.SchemeInternal, nil, all[:2], nil},
		{"ALB in one zone", "c2", elb.LoadBalancerTypeApplication, elb.SchemeInternal, nil, nil, provision.ErrSubnets},
		{"NLB in one zone", "c2", elb.LoadBalancerTypeNetwork, elb.SchemeInternal, nil, all[2:], nil},
		{"selector", "", elb.LoadBalancerTypeNetwork, elb.SchemeInternal, &elb.SubnetSelector{Tags: elb.Tags{"kubernetes.io/cluster/c1": ""}}, all[:2], nil},
		{"selector matching nothing", "", elb.LoadBalancerTypeNetwork, elb.SchemeInternal, &elb.SubnetSelector{Tags: elb.Tags{"nope": ""}}, nil, provision.ErrSubnets},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.provisioner(t, "shop", func(o *provision.Options) { o.ClusterName = tt.cluster })
			got, err := p.DiscoverSubnets(ctx, tt.typ, tt.scheme, tt.sel, "")
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if tt.err == nil && !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
