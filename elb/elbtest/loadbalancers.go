package elbtest

import (
	"fmt"
	"strconv"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// hostedZones are the Route 53 hosted zone IDs of ELB DNS names per
// region: ALB (and classic) first, NLB second.
var hostedZones = map[string][2]string{
	"us-east-1":      {"Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"},
	"us-east-2":      {"Z3AADJGX6KTTL2", "ZLMOA37VPKANP"},
	"us-west-1":      {"Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"},
	"us-west-2":      {"Z1H1FL5HABSF5", "Z18D5FSROUN65G"},
	"eu-west-1":      {"Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"},
	"eu-central-1":   {"Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"},
	"ap-southeast-1": {"Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"},
	"ap-northeast-1": {"Z14GRHDCWA56QT", "Z31USIVHYNEOWT"},
}

func (s *Server) hostedZone(lbType types.LoadBalancerTypeEnum) string {
	z, ok := hostedZones[s.opts.Region]
	if !ok {
		z = hostedZones["us-east-1"]
	}
	if lbType == types.LoadBalancerTypeEnumNetwork {
		return z[1]
	}
	return z[0]
}

// defaultLBAttributes are a new load balancer's attributes (§3 of the
// research notes; botocore's example for ALB).
func defaultLBAttributes(t types.LoadBalancerTypeEnum) map[string]string {
	a := map[string]string{
		"deletion_protection.enabled":       "false",
		"access_logs.s3.enabled":            "false",
		"access_logs.s3.bucket":             "",
		"access_logs.s3.prefix":             "",
		"load_balancing.cross_zone.enabled": "false",
	}
	if t == types.LoadBalancerTypeEnumApplication {
		for k, v := range map[string]string{
			"idle_timeout.timeout_seconds":                             "60",
			"client_keep_alive.seconds":                                "3600",
			"routing.http2.enabled":                                    "true",
			"routing.http.desync_mitigation_mode":                      "defensive",
			"routing.http.drop_invalid_header_fields.enabled":          "false",
			"routing.http.preserve_host_header.enabled":                "false",
			"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
			"routing.http.xff_client_port.enabled":                     "false",
			"routing.http.xff_header_processing.mode":                  "append",
			"waf.fail_open.enabled":                                    "false",
			"load_balancing.cross_zone.enabled":                        "true",
			"connection_logs.s3.enabled":                               "false",
			"connection_logs.s3.bucket":                                "",
			"connection_logs.s3.prefix":                                "",
		} {
			a[k] = v
		}
	} else {
		a["dns_record.client_routing_policy"] = "any_availability_zone"
	}
	return a
}

// lbAttrCheck validates one attribute value; nil means any string.
var lbAttrCheck = map[string]func(string) bool{
	"deletion_protection.enabled":                              isBool,
	"access_logs.s3.enabled":                                   isBool,
	"load_balancing.cross_zone.enabled":                        isBool,
	"routing.http2.enabled":                                    isBool,
	"waf.fail_open.enabled":                                    isBool,
	"connection_logs.s3.enabled":                               isBool,
	"routing.http.drop_invalid_header_fields.enabled":          isBool,
	"routing.http.preserve_host_header.enabled":                isBool,
	"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": isBool,
	"routing.http.xff_client_port.enabled":                     isBool,
	"idle_timeout.timeout_seconds":                             intIn(1, 4000),
	"client_keep_alive.seconds":                                intIn(60, 604800),
	"routing.http.desync_mitigation_mode":                      oneOf("monitor", "defensive", "strictest"),
	"routing.http.xff_header_processing.mode":                  oneOf("append", "preserve", "remove"),
	"dns_record.client_routing_policy":                         oneOf("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
}

func isBool(v string) bool { return v == "true" || v == "false" }

func intIn(lo, hi int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

func oneOf(vals ...string) func(string) bool {
	return func(v string) bool { return contains(vals, v) }
}

// resolveSubnets checks the subnets of a create or SetSubnets and returns
// the load balancer's availability zones and VPC.
func (s *Server) resolveSubnets(lbType types.LoadBalancerTypeEnum, subnets []string, mappings []types.SubnetMapping) ([]types.AvailabilityZone, string, error) {
	for _, m := range mappings {
		subnets = append(subnets, str(m.SubnetId))
	}
	var azs []types.AvailabilityZone
	vpc := ""
	seen := map[string]bool{}
	for _, id := range subnets {
		sn := s.st.d.Subnets[id]
		if sn == nil {
			return nil, "", apiErr("SubnetNotFound", "The subnet ID '%s' is not valid", id)
		}
		if vpc != "" && sn.VPCID != vpc {
			return nil, "", apiErr("InvalidSubnet", "The subnets must all be in the same VPC: '%s' is in '%s', not '%s'", id, sn.VPCID, vpc)
		}
		vpc = sn.VPCID
		if seen[sn.AvailabilityZone] {
			return nil, "", apiErr("InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		seen[sn.AvailabilityZone] = true
		az := types.AvailabilityZone{ZoneName: ptr(sn.AvailabilityZone), SubnetId: ptr(id), LoadBalancerAddresses: []types.LoadBalancerAddress{}}
		azs = append(azs, az)
	}
	switch {
	case lbType == types.LoadBalancerTypeEnumApplication && len(azs) < 2:
		return nil, "", validationf("At least two subnets in two different Availability Zones must be specified")
	case len(azs) == 0:
		return nil, "", validationf("At least one subnet must be specified")
	}
	return azs, vpc, nil
}

func (s *Server) resolveSecurityGroups(ids []string, vpc string) error {
	for _, id := range ids {
		sg := s.st.d.SecurityGroups[id]
		if sg == nil || sg.VPCID != vpc {
			return apiErr("InvalidSecurityGroup", "Security group '%s' does not exist", id)
		}
	}
	return nil
}

func (s *Server) createLoadBalancer(r *request, in *elbv2.CreateLoadBalancerInput) (*elbv2.CreateLoadBalancerOutput, error) {
	name := str(in.Name)
	if err := specErr(elb.ValidateLoadBalancerName(name)); err != nil {
		return nil, err
	}
	lbType := in.Type
	if lbType == "" {
		lbType = types.LoadBalancerTypeEnumApplication
	}
	if lbType != types.LoadBalancerTypeEnumApplication && lbType != types.LoadBalancerTypeEnumNetwork {
		return nil, constraint(lbType, "type", "Member must satisfy enum value set: [application, network]")
	}
	scheme := in.Scheme
	if scheme == "" {
		scheme = types.LoadBalancerSchemeEnumInternetFacing
	}
	if scheme != types.LoadBalancerSchemeEnumInternetFacing && scheme != types.LoadBalancerSchemeEnumInternal {
		return nil, constraint(scheme, "scheme", "Member must satisfy enum value set: [internet-facing, internal]")
	}
	ipType := in.IpAddressType
	if ipType == "" {
		ipType = types.IpAddressTypeIpv4
	}
	if !contains([]string{"ipv4", "dualstack", "dualstack-without-public-ipv4"}, string(ipType)) {
		return nil, constraint(ipType, "ipAddressType", "Member must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]")
	}
	if len(in.Subnets) > 0 && len(in.SubnetMappings) > 0 {
		return nil, validationf("You can specify subnets or subnet mappings, not both")
	}
	azs, vpc, err := s.resolveSubnets(lbType, in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	sgs := in.SecurityGroups
	if sgs == nil && lbType == types.LoadBalancerTypeEnumApplication {
		if d := s.st.defaultSG(vpc); d != "" {
			sgs = []string{d}
		}
	}
	if err := s.resolveSecurityGroups(sgs, vpc); err != nil {
		return nil, err
	}
	if err := s.validateTags(in.Tags, nil); err != nil {
		return nil, err
	}
	subnetIDs := func(azs []types.AvailabilityZone) []string {
		var out []string
		for _, az := range azs {
			out = append(out, str(az.SubnetId))
		}
		return out
	}
	count := 0
	for _, rec := range s.st.d.LoadBalancers {
		lb := &rec.LoadBalancer
		if lb.Type == lbType {
			count++
		}
		if str(lb.LoadBalancerName) != name {
			continue
		}
		if lb.Type == lbType && lb.Scheme == scheme && lb.IpAddressType == ipType &&
			sameSet(subnetIDs(lb.AvailabilityZones), subnetIDs(azs)) && sameSet(lb.SecurityGroups, sgs) {
			return &elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{s.lbView(rec, r.now)}}, nil
		}
		return nil, apiErr("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	if count >= s.opts.Quotas.LoadBalancers {
		return nil, apiErr("TooManyLoadBalancers", "The quota for the number of load balancers has been reached")
	}
	kind := "app"
	if lbType == types.LoadBalancerTypeEnumNetwork {
		kind = "net"
	}
	id := s.st.hexID(16)
	b := s.st.randomBytes(4)
	dns := fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", name, 100000000+(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3]&0x3f)<<24)%1900000000, s.opts.Region)
	if lbType == types.LoadBalancerTypeEnumNetwork {
		dns = fmt.Sprintf("%s-%s.elb.%s.amazonaws.com", name, id, s.opts.Region)
	}
	if scheme == types.LoadBalancerSchemeEnumInternal {
		dns = "internal-" + dns
	}
	created := r.now.UTC().Truncate(time.Millisecond)
	rec := &LoadBalancerRecord{
		LoadBalancer: types.LoadBalancer{
			LoadBalancerArn:       ptr(s.st.arn(fmt.Sprintf("loadbalancer/%s/%s/%s", kind, name, id))),
			LoadBalancerName:      ptr(name),
			DNSName:               ptr(dns),
			CanonicalHostedZoneId: ptr(s.hostedZone(lbType)),
			CreatedTime:           &created,
			Scheme:                scheme,
			VpcId:                 ptr(vpc),
			Type:                  lbType,
			AvailabilityZones:     azs,
			SecurityGroups:        sgs,
			IpAddressType:         ipType,
			State:                 &types.LoadBalancerState{Code: types.LoadBalancerStateEnumProvisioning},
		},
		Attributes: defaultLBAttributes(lbType),
		ActiveAt:   r.now.Add(s.opts.ProvisioningDelay),
		Seq:        s.st.next(),
	}
	arn := *rec.LoadBalancer.LoadBalancerArn
	s.st.d.LoadBalancers[arn] = rec
	if len(in.Tags) > 0 {
		s.st.d.Tags[arn] = mergeTags(nil, in.Tags)
	}
	view := rec.LoadBalancer
	view.State = &types.LoadBalancerState{Code: types.LoadBalancerStateEnumProvisioning}
	return &elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{view}}, nil
}

// lbView is the load balancer as a describe shows it at now.
func (s *Server) lbView(rec *LoadBalancerRecord, now time.Time) types.LoadBalancer {
	v := rec.LoadBalancer
	code := types.LoadBalancerStateEnumProvisioning
	if !now.Before(rec.ActiveAt) {
		code = types.LoadBalancerStateEnumActive
	}
	v.State = &types.LoadBalancerState{Code: code}
	return v
}

func (s *Server) describeLoadBalancers(r *request, in *elbv2.DescribeLoadBalancersInput) (*elbv2.DescribeLoadBalancersOutput, error) {
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, validationf("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	if len(in.LoadBalancerArns) > 20 {
		return nil, constraint(len(in.LoadBalancerArns), "loadBalancerArns", "Member must have length less than or equal to 20")
	}
	all := sortedBySeq(s.st.d.LoadBalancers, func(v *LoadBalancerRecord) uint64 { return v.Seq })
	match, err := selectRecords(all, in.LoadBalancerArns, in.Names, s.lb,
		func(r *LoadBalancerRecord) string { return str(r.LoadBalancer.LoadBalancerName) },
		func(n string) error { return apiErr("LoadBalancerNotFound", "Load balancers '[%s]' not found", n) })
	if err != nil {
		return nil, err
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(match))
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []types.LoadBalancer{}, NextMarker: next}
	for _, rec := range match[start:end] {
		out.LoadBalancers = append(out.LoadBalancers, s.lbView(rec, r.now))
	}
	return out, nil
}

func (s *Server) deleteLoadBalancer(r *request, in *elbv2.DeleteLoadBalancerInput) (*elbv2.DeleteLoadBalancerOutput, error) {
	arn := str(in.LoadBalancerArn)
	rec := s.st.d.LoadBalancers[arn]
	if rec == nil {
		if arnKind(arn) != "loadbalancer" {
			return nil, validationf("'%s' is not a valid load balancer ARN", arn)
		}
		return &elbv2.DeleteLoadBalancerOutput{}, nil // AWS: deleting a missing LB succeeds
	}
	if rec.Attributes["deletion_protection.enabled"] == "true" {
		return nil, apiErr("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
	}
	for larn, l := range s.st.d.Listeners {
		if str(l.Listener.LoadBalancerArn) == arn {
			s.dropListener(larn)
		}
	}
	delete(s.st.d.LoadBalancers, arn)
	delete(s.st.d.Tags, arn)
	return &elbv2.DeleteLoadBalancerOutput{}, nil
}

func attrList[T any](m map[string]string, mk func(k, v string) T) []T {
	out := make([]T, 0, len(m))
	for _, k := range sortStrings(keys(m)) {
		out = append(out, mk(k, m[k]))
	}
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func lbAttr(k, v string) types.LoadBalancerAttribute {
	return types.LoadBalancerAttribute{Key: ptr(k), Value: ptr(v)}
}

func (s *Server) describeLoadBalancerAttributes(r *request, in *elbv2.DescribeLoadBalancerAttributesInput) (*elbv2.DescribeLoadBalancerAttributesOutput, error) {
	rec, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeLoadBalancerAttributesOutput{Attributes: attrList(rec.Attributes, lbAttr)}, nil
}

func (s *Server) modifyLoadBalancerAttributes(r *request, in *elbv2.ModifyLoadBalancerAttributesInput) (*elbv2.ModifyLoadBalancerAttributesOutput, error) {
	rec, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) > 20 {
		return nil, constraint(len(in.Attributes), "attributes", "Member must have length less than or equal to 20")
	}
	var req [][2]string
	for _, a := range in.Attributes {
		req = append(req, [2]string{str(a.Key), str(a.Value)})
	}
	if err := checkLBAttributes(rec.LoadBalancer.Type, rec.Attributes, req); err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		k, v := str(a.Key), str(a.Value)
		if _, ok := rec.Attributes[k]; !ok {
			return nil, validationf("Load balancer attribute key '%s' is not recognized", k)
		}
		if check := lbAttrCheck[k]; check != nil && !check(v) {
			return nil, validationf("Load balancer attribute value '%s' is not valid for attribute key '%s'", v, k)
		}
		if k == "load_balancing.cross_zone.enabled" && rec.LoadBalancer.Type == types.LoadBalancerTypeEnumApplication && v != "true" {
			return nil, apiErr("InvalidConfigurationRequest", "Cross-zone load balancing cannot be disabled for Application Load Balancers")
		}
		if k == "access_logs.s3.enabled" && v == "true" {
			bucket := rec.Attributes["access_logs.s3.bucket"]
			for _, b := range in.Attributes {
				if str(b.Key) == "access_logs.s3.bucket" {
					bucket = str(b.Value)
				}
			}
			if bucket == "" {
				return nil, validationf("The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled")
			}
		}
	}
	for _, a := range in.Attributes {
		rec.Attributes[str(a.Key)] = str(a.Value)
	}
	return &elbv2.ModifyLoadBalancerAttributesOutput{Attributes: attrList(rec.Attributes, lbAttr)}, nil
}

func (s *Server) setSubnets(r *request, in *elbv2.SetSubnetsInput) (*elbv2.SetSubnetsOutput, error) {
	rec, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if len(in.Subnets) > 0 && len(in.SubnetMappings) > 0 {
		return nil, validationf("You can specify subnets or subnet mappings, not both")
	}
	azs, vpc, err := s.resolveSubnets(rec.LoadBalancer.Type, in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	if vpc != str(rec.LoadBalancer.VpcId) {
		return nil, apiErr("InvalidSubnet", "The subnets must be in the load balancer's VPC '%s'", str(rec.LoadBalancer.VpcId))
	}
	ipType := rec.LoadBalancer.IpAddressType
	if in.IpAddressType != "" {
		ipType = in.IpAddressType
	}
	rec.LoadBalancer.AvailabilityZones = azs
	rec.LoadBalancer.IpAddressType = ipType
	return &elbv2.SetSubnetsOutput{AvailabilityZones: azs, IpAddressType: ipType}, nil
}

func (s *Server) setSecurityGroups(r *request, in *elbv2.SetSecurityGroupsInput) (*elbv2.SetSecurityGroupsOutput, error) {
	rec, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if rec.LoadBalancer.Type == types.LoadBalancerTypeEnumNetwork && len(rec.LoadBalancer.SecurityGroups) == 0 {
		return nil, apiErr("InvalidConfigurationRequest", "You cannot set security groups for a Network Load Balancer which was created without any security groups")
	}
	if rec.LoadBalancer.Type == types.LoadBalancerTypeEnumApplication && len(in.SecurityGroups) == 0 {
		return nil, validationf("At least one security group must be specified for an Application Load Balancer")
	}
	if err := s.resolveSecurityGroups(in.SecurityGroups, str(rec.LoadBalancer.VpcId)); err != nil {
		return nil, err
	}
	rec.LoadBalancer.SecurityGroups = append([]string{}, in.SecurityGroups...)
	return &elbv2.SetSecurityGroupsOutput{SecurityGroupIds: rec.LoadBalancer.SecurityGroups}, nil
}

func (s *Server) setIPAddressType(r *request, in *elbv2.SetIpAddressTypeInput) (*elbv2.SetIpAddressTypeOutput, error) {
	rec, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	if !contains([]string{"ipv4", "dualstack", "dualstack-without-public-ipv4"}, string(in.IpAddressType)) {
		return nil, constraint(in.IpAddressType, "ipAddressType", "Member must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]")
	}
	if in.IpAddressType == types.IpAddressTypeDualstackWithoutPublicIpv4 && rec.LoadBalancer.Scheme != types.LoadBalancerSchemeEnumInternetFacing {
		return nil, apiErr("InvalidConfigurationRequest", "dualstack-without-public-ipv4 is supported only for internet-facing load balancers")
	}
	rec.LoadBalancer.IpAddressType = in.IpAddressType
	return &elbv2.SetIpAddressTypeOutput{IpAddressType: in.IpAddressType}, nil
}

// selectRecords is what a Describe call lists: the records named by arns
// (each must exist), else those named by names (each must exist, the
// error from notFound otherwise), else all of them.
func selectRecords[R any](all []R, arns, names []string, byARN func(string) (R, error), name func(R) string, notFound func(string) error) ([]R, error) {
	var match []R
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			rec, err := byARN(arn)
			if err != nil {
				return nil, err
			}
			match = append(match, rec)
		}
	case len(names) > 0:
		for _, n := range names {
			found := false
			for _, rec := range all {
				if name(rec) == n {
					match, found = append(match, rec), true
					break
				}
			}
			if !found {
				return nil, notFound(n)
			}
		}
	default:
		match = all
	}
	return match, nil
}
