package elbtest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The EC2 subset: what ELB provisioning needs to discover or create its
// network (VPCs, subnets with zones, security groups, tags), in ec2query
// (flat "Name.N" lists, lowerCamel <item> responses).

func (s *Server) registerEC2() {
	ops := map[string]func(r *request) ([]byte, error){
		"DescribeAvailabilityZones": s.ec2DescribeAvailabilityZones,
		"CreateVpc":                 s.ec2CreateVpc,
		"DescribeVpcs":              s.ec2DescribeVpcs,
		"DeleteVpc":                 s.ec2DeleteVpc,
		"CreateSubnet":              s.ec2CreateSubnet,
		"DescribeSubnets":           s.ec2DescribeSubnets,
		"DeleteSubnet":              s.ec2DeleteSubnet,
		"CreateSecurityGroup":       s.ec2CreateSecurityGroup,
		"DescribeSecurityGroups":    s.ec2DescribeSecurityGroups,
		"DeleteSecurityGroup":       s.ec2DeleteSecurityGroup,
		"CreateTags":                s.ec2CreateTags,
		"DeleteTags":                s.ec2DeleteTags,
		"DescribeTags":              s.ec2DescribeTags,
	}
	for name, run := range ops {
		s.handlers[EC2Version+"/"+name] = &operation{name: name, service: serviceEC2, mutating: isMutating(name), run: run}
	}
}

// ec2List reads the flat list prefix.1, prefix.2, … .
func ec2List(f *form, prefix string) []string {
	var out []string
	for n := 1; ; n++ {
		v, ok := f.get(prefix + "." + strconv.Itoa(n))
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

type ec2Filter struct {
	name   string
	values []string
}

func ec2Filters(f *form) []ec2Filter {
	var out []ec2Filter
	for n := 1; ; n++ {
		p := "Filter." + strconv.Itoa(n)
		name, ok := f.get(p + ".Name")
		if !ok {
			return out
		}
		out = append(out, ec2Filter{name: name, values: ec2List(f, p+".Value")})
	}
}

// ec2Tags reads Tag.N.Key / Tag.N.Value under prefix.
func ec2Tags(f *form, prefix string) []EC2Tag {
	var out []EC2Tag
	for n := 1; ; n++ {
		p := prefix + "." + strconv.Itoa(n)
		k, ok := f.get(p + ".Key")
		if !ok {
			return out
		}
		v, _ := f.get(p + ".Value")
		out = append(out, EC2Tag{Key: k, Value: v})
	}
}

// tagSpecs returns the tags of TagSpecification.N whose ResourceType is rt.
func tagSpecs(f *form, rt string) []EC2Tag {
	var out []EC2Tag
	for n := 1; ; n++ {
		p := "TagSpecification." + strconv.Itoa(n)
		t, ok := f.get(p + ".ResourceType")
		if !ok {
			return out
		}
		if t == rt {
			out = append(out, ec2Tags(f, p+".Tag")...)
		}
	}
}

func validateEC2Tags(tags []EC2Tag) error {
	if len(tags) > 50 {
		return apiErr("TagLimitExceeded", "The maximum number of tags per resource is 50")
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return apiErr(codeInvalidParamValue, "Tag keys must be 1 to 128 characters long")
		}
		if len(t.Value) > 256 {
			return apiErr(codeInvalidParamValue, "Tag values must be at most 256 characters long")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return apiErr(codeInvalidParamValue, "Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	return nil
}

// setEC2Tags merges tags into a resource's tags (a key overwrites).
func (st *store) setEC2Tags(id string, tags []EC2Tag) {
	cur := st.d.EC2Tags[id]
outer:
	for _, t := range tags {
		for i := range cur {
			if cur[i].Key == t.Key {
				cur[i].Value = t.Value
				continue outer
			}
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		st.d.EC2Tags[id] = cur
	}
}

// glob matches EC2 filter values: * is any run of characters, ? one.
func glob(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if glob(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

func anyGlob(patterns []string, v string) bool {
	for _, p := range patterns {
		if glob(p, v) {
			return true
		}
	}
	return false
}

// matchFilters applies EC2 filters: every filter must match (AND), any
// value of one filter may (OR). fields maps the filter names the resource
// supports to its values; tag filters are common to all.
func matchFilters(filters []ec2Filter, fields map[string]string, tags []EC2Tag) (bool, error) {
	for _, f := range filters {
		switch {
		case strings.HasPrefix(f.name, "tag:"):
			key, ok := f.name[4:], false
			for _, t := range tags {
				if t.Key == key && anyGlob(f.values, t.Value) {
					ok = true
				}
			}
			if !ok {
				return false, nil
			}
		case f.name == "tag-key" || f.name == "tag-value":
			ok := false
			for _, t := range tags {
				v := t.Key
				if f.name == "tag-value" {
					v = t.Value
				}
				if anyGlob(f.values, v) {
					ok = true
				}
			}
			if !ok {
				return false, nil
			}
		default:
			v, known := fields[f.name]
			if !known {
				return false, apiErr(codeInvalidParamValue, "The filter '%s' is invalid", f.name)
			}
			if !anyGlob(f.values, v) {
				return false, nil
			}
		}
	}
	return true, nil
}

// ec2Page applies MaxResults/NextToken to n items: the token is the
// decimal offset of the next item.
// ec2PagedSet writes the page of match the request asks for (MaxResults,
// NextToken) as <set><item>…</item>…</set>, plus the next token.
func ec2PagedSet[T any](r *request, set string, match []T, item func(*xmlWriter, T)) ([]byte, error) {
	start, end, next, err := ec2Page(r.form, len(match))
	if err != nil {
		return nil, err
	}
	var x xmlWriter
	x.open(set)
	for _, m := range match[start:end] {
		x.open("item")
		item(&x, m)
		x.close("item")
	}
	x.close(set)
	if next != "" {
		x.elem("nextToken", next)
	}
	return x.Bytes(), nil
}

func ec2Page(f *form, n int) (start, end int, next string, err error) {
	if t, ok := f.get("NextToken"); ok && t != "" {
		start, err = strconv.Atoi(t)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", apiErr("InvalidNextToken", "The token '%s' is invalid", t)
		}
	}
	end = n
	if m, ok := f.get("MaxResults"); ok {
		max, err := strconv.Atoi(m)
		if err != nil || max < 5 || max > 1000 {
			return 0, 0, "", apiErr(codeInvalidParamValue, "Value ( %s ) for parameter maxResults is invalid. Parameter must be between 5 and 1000.", m)
		}
		if start+max < n {
			end = start + max
			next = strconv.Itoa(end)
		}
	}
	return start, end, next, nil
}

func writeTagSet(x *xmlWriter, tags []EC2Tag) {
	x.open("tagSet")
	for _, t := range tags {
		x.open("item")
		x.elem("key", t.Key)
		x.elem("value", t.Value)
		x.close("item")
	}
	x.close("tagSet")
}

func (s *Server) ec2DescribeAvailabilityZones(r *request) ([]byte, error) {
	names := ec2List(r.form, "ZoneName")
	ids := ec2List(r.form, "ZoneId")
	filters := ec2Filters(r.form)
	var x xmlWriter
	x.open("availabilityZoneInfo")
	for _, z := range s.st.zones() {
		id := s.st.zoneID(z)
		if len(names) > 0 && !contains(names, z) || len(ids) > 0 && !contains(ids, id) {
			continue
		}
		ok, err := matchFilters(filters, map[string]string{"zone-name": z, "zone-id": id, "region-name": s.opts.Region, "state": "available", "zone-type": "availability-zone"}, nil)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		x.open("item")
		x.elem("zoneName", z)
		x.elem("zoneId", id)
		x.elem("zoneState", "available")
		x.elem("regionName", s.opts.Region)
		x.elem("zoneType", "availability-zone")
		x.elem("groupName", s.opts.Region)
		x.elem("optInStatus", "opt-in-not-required")
		x.WriteString("<messageSet/>")
		x.close("item")
	}
	for _, n := range names {
		if !contains(s.st.zones(), n) {
			return nil, apiErr(codeInvalidParamValue, "Invalid availability zone: [%s]", n)
		}
	}
	x.close("availabilityZoneInfo")
	return x.Bytes(), nil
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func parseCIDR(c string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(c)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return netip.Prefix{}, apiErr("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", c)
	}
	return p, nil
}

func (s *Server) ec2CreateVpc(r *request) ([]byte, error) {
	cidr, ok := r.form.get("CidrBlock")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter CidrBlock")
	}
	p, err := parseCIDR(cidr)
	if err != nil {
		return nil, err
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return nil, apiErr("InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr)
	}
	tags := tagSpecs(r.form, "vpc")
	if err := validateEC2Tags(tags); err != nil {
		return nil, err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	vpc := &VPC{ID: "vpc-" + st.hexID(17), CIDR: cidr, Seq: st.next()}
	st.d.VPCs[vpc.ID] = vpc
	st.addDefaultSG(vpc.ID)
	st.setEC2Tags(vpc.ID, tags)
	var x xmlWriter
	x.open("vpc")
	s.writeVPC(&x, vpc)
	x.close("vpc")
	return x.Bytes(), nil
}

func (s *Server) writeVPC(x *xmlWriter, v *VPC) {
	x.elem("vpcId", v.ID)
	x.elem("ownerId", s.opts.AccountID)
	x.elem("state", "available")
	x.elem("cidrBlock", v.CIDR)
	x.elem("dhcpOptionsId", "default")
	x.elem("instanceTenancy", "default")
	x.elem("isDefault", strconv.FormatBool(v.IsDefault))
	writeTagSet(x, s.st.d.EC2Tags[v.ID])
}

func (s *Server) ec2DescribeVpcs(r *request) ([]byte, error) {
	ids := ec2List(r.form, "VpcId")
	filters := ec2Filters(r.form)
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, id := range ids {
		if st.d.VPCs[id] == nil {
			return nil, apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		}
	}
	var match []*VPC
	for _, v := range sortedBySeq(st.d.VPCs, func(v *VPC) uint64 { return v.Seq }) {
		if len(ids) > 0 && !contains(ids, v.ID) {
			continue
		}
		ok, err := matchFilters(filters, map[string]string{"vpc-id": v.ID, "cidr": v.CIDR, "cidr-block-association.cidr-block": v.CIDR,
			"is-default": strconv.FormatBool(v.IsDefault), "state": "available", "owner-id": s.opts.AccountID}, st.d.EC2Tags[v.ID])
		if err != nil {
			return nil, err
		}
		if ok {
			match = append(match, v)
		}
	}
	return ec2PagedSet(r, "vpcSet", match, func(x *xmlWriter, v *VPC) {
		s.writeVPC(x, v)
	})
}

func (s *Server) ec2DeleteVpc(r *request) ([]byte, error) {
	id, ok := r.form.get("VpcId")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter VpcId")
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.d.VPCs[id] == nil {
		return nil, apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	for _, sn := range st.d.Subnets {
		if sn.VPCID == id {
			return nil, apiErr(codeDependencyViolation, "The vpc '%s' has dependencies and cannot be deleted.", id)
		}
	}
	for _, sg := range st.d.SecurityGroups {
		if sg.VPCID == id && sg.Name != "default" {
			return nil, apiErr(codeDependencyViolation, "The vpc '%s' has dependencies and cannot be deleted.", id)
		}
	}
	for _, tg := range st.d.TargetGroups {
		if tg.TargetGroup.VpcId != nil && *tg.TargetGroup.VpcId == id {
			return nil, apiErr(codeDependencyViolation, "The vpc '%s' has dependencies and cannot be deleted.", id)
		}
	}
	for sgID, sg := range st.d.SecurityGroups {
		if sg.VPCID == id {
			delete(st.d.SecurityGroups, sgID)
			delete(st.d.EC2Tags, sgID)
		}
	}
	delete(st.d.VPCs, id)
	delete(st.d.EC2Tags, id)
	return []byte("<return>true</return>"), nil
}

func (s *Server) ec2CreateSubnet(r *request) ([]byte, error) {
	vpcID, ok := r.form.get("VpcId")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter VpcId")
	}
	cidr, ok := r.form.get("CidrBlock")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter CidrBlock")
	}
	p, err := parseCIDR(cidr)
	if err != nil {
		return nil, err
	}
	tags := tagSpecs(r.form, "subnet")
	if err := validateEC2Tags(tags); err != nil {
		return nil, err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	vpc := st.d.VPCs[vpcID]
	if vpc == nil {
		return nil, apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	vp, _ := netip.ParsePrefix(vpc.CIDR)
	if !vp.Contains(p.Addr()) || p.Bits() < vp.Bits() || p.Bits() > 28 {
		return nil, apiErr("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	for _, sn := range st.d.Subnets {
		if sn.VPCID != vpcID {
			continue
		}
		if op, _ := netip.ParsePrefix(sn.CIDR); op.Overlaps(p) {
			return nil, apiErr("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
		}
	}
	zone, _ := r.form.get("AvailabilityZone")
	if zid, ok := r.form.get("AvailabilityZoneId"); ok && zone == "" {
		for _, z := range st.zones() {
			if st.zoneID(z) == zid {
				zone = z
			}
		}
		if zone == "" {
			return nil, apiErr(codeInvalidParamValue, "Value (%s) for parameter availabilityZoneId is invalid.", zid)
		}
	}
	if zone == "" {
		zone = st.zones()[int(st.d.Counter)%len(st.zones())]
	}
	if !contains(st.zones(), zone) {
		return nil, apiErr(codeInvalidParamValue, "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", zone, strings.Join(st.zones(), ", "))
	}
	sn := &Subnet{ID: "subnet-" + st.hexID(17), VPCID: vpcID, CIDR: cidr, AvailabilityZone: zone, ZoneID: st.zoneID(zone), Seq: st.next()}
	st.d.Subnets[sn.ID] = sn
	st.setEC2Tags(sn.ID, tags)
	var x xmlWriter
	x.open("subnet")
	s.writeSubnet(&x, sn)
	x.close("subnet")
	return x.Bytes(), nil
}

func (s *Server) writeSubnet(x *xmlWriter, sn *Subnet) {
	p, _ := netip.ParsePrefix(sn.CIDR)
	x.elem("subnetId", sn.ID)
	x.elem("subnetArn", fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", s.opts.Region, s.opts.AccountID, sn.ID))
	x.elem("state", "available")
	x.elem("vpcId", sn.VPCID)
	x.elem("ownerId", s.opts.AccountID)
	x.elem("cidrBlock", sn.CIDR)
	x.elem("availableIpAddressCount", strconv.Itoa((1<<(32-p.Bits()))-5))
	x.elem("availabilityZone", sn.AvailabilityZone)
	x.elem("availabilityZoneId", sn.ZoneID)
	x.elem("defaultForAz", strconv.FormatBool(sn.DefaultForAZ))
	x.elem("mapPublicIpOnLaunch", strconv.FormatBool(sn.MapPublic))
	writeTagSet(x, s.st.d.EC2Tags[sn.ID])
}

func (s *Server) ec2DescribeSubnets(r *request) ([]byte, error) {
	ids := ec2List(r.form, "SubnetId")
	filters := ec2Filters(r.form)
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, id := range ids {
		if st.d.Subnets[id] == nil {
			return nil, apiErr("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
	}
	var match []*Subnet
	for _, sn := range sortedBySeq(st.d.Subnets, func(v *Subnet) uint64 { return v.Seq }) {
		if len(ids) > 0 && !contains(ids, sn.ID) {
			continue
		}
		ok, err := matchFilters(filters, map[string]string{"subnet-id": sn.ID, "vpc-id": sn.VPCID, "availability-zone": sn.AvailabilityZone,
			"availability-zone-id": sn.ZoneID, "cidr-block": sn.CIDR, "cidr": sn.CIDR, "cidrBlock": sn.CIDR, "default-for-az": strconv.FormatBool(sn.DefaultForAZ),
			"defaultForAz": strconv.FormatBool(sn.DefaultForAZ), "state": "available", "owner-id": s.opts.AccountID,
			"map-public-ip-on-launch": strconv.FormatBool(sn.MapPublic)}, st.d.EC2Tags[sn.ID])
		if err != nil {
			return nil, err
		}
		if ok {
			match = append(match, sn)
		}
	}
	return ec2PagedSet(r, "subnetSet", match, func(x *xmlWriter, sn *Subnet) {
		s.writeSubnet(x, sn)
	})
}

func (s *Server) ec2DeleteSubnet(r *request) ([]byte, error) {
	id, ok := r.form.get("SubnetId")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter SubnetId")
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.d.Subnets[id] == nil {
		return nil, apiErr("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	for _, lb := range st.d.LoadBalancers {
		for _, az := range lb.LoadBalancer.AvailabilityZones {
			if az.SubnetId != nil && *az.SubnetId == id {
				return nil, apiErr(codeDependencyViolation, "The subnet '%s' has dependencies and cannot be deleted.", id)
			}
		}
	}
	delete(st.d.Subnets, id)
	delete(st.d.EC2Tags, id)
	return []byte("<return>true</return>"), nil
}

func (s *Server) ec2CreateSecurityGroup(r *request) ([]byte, error) {
	name, ok := r.form.get("GroupName")
	if !ok || name == "" {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter GroupName")
	}
	desc, ok := r.form.get("GroupDescription")
	if !ok {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter GroupDescription")
	}
	if len(name) > 255 || len(desc) > 255 {
		return nil, apiErr(codeInvalidParamValue, "Group name and description must be at most 255 characters")
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, apiErr(codeInvalidParamValue, "Group names may not be in the format sg-*")
	}
	tags := tagSpecs(r.form, "security-group")
	if err := validateEC2Tags(tags); err != nil {
		return nil, err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	vpcID, _ := r.form.get("VpcId")
	if vpcID == "" {
		for _, v := range st.d.VPCs {
			if v.IsDefault {
				vpcID = v.ID
			}
		}
		if vpcID == "" {
			return nil, apiErr("VPCIdNotSpecified", "No default VPC for this user")
		}
	}
	if st.d.VPCs[vpcID] == nil {
		return nil, apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	for _, sg := range st.d.SecurityGroups {
		if sg.VPCID == vpcID && sg.Name == name {
			return nil, apiErr("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
	}
	sg := &SecurityGroup{ID: "sg-" + st.hexID(17), Name: name, Description: desc, VPCID: vpcID, Seq: st.next()}
	st.d.SecurityGroups[sg.ID] = sg
	st.setEC2Tags(sg.ID, tags)
	var x xmlWriter
	x.elem("return", "true")
	x.elem("groupId", sg.ID)
	x.elem("securityGroupArn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", s.opts.Region, s.opts.AccountID, sg.ID))
	writeTagSet(&x, st.d.EC2Tags[sg.ID])
	return x.Bytes(), nil
}

func (s *Server) ec2DescribeSecurityGroups(r *request) ([]byte, error) {
	ids := ec2List(r.form, "GroupId")
	names := ec2List(r.form, "GroupName")
	filters := ec2Filters(r.form)
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, id := range ids {
		if st.d.SecurityGroups[id] == nil {
			return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	var match []*SecurityGroup
	for _, sg := range sortedBySeq(st.d.SecurityGroups, func(v *SecurityGroup) uint64 { return v.Seq }) {
		if len(ids) > 0 && !contains(ids, sg.ID) || len(names) > 0 && !contains(names, sg.Name) {
			continue
		}
		ok, err := matchFilters(filters, map[string]string{"group-id": sg.ID, "group-name": sg.Name, "vpc-id": sg.VPCID,
			"description": sg.Description, "owner-id": s.opts.AccountID}, st.d.EC2Tags[sg.ID])
		if err != nil {
			return nil, err
		}
		if ok {
			match = append(match, sg)
		}
	}
	for _, n := range names {
		found := false
		for _, sg := range match {
			found = found || sg.Name == n
		}
		if !found {
			return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", n)
		}
	}
	return ec2PagedSet(r, "securityGroupInfo", match, func(x *xmlWriter, sg *SecurityGroup) {
		x.elem("ownerId", s.opts.AccountID)
		x.elem("groupId", sg.ID)
		x.elem("groupName", sg.Name)
		x.elem("groupDescription", sg.Description)
		x.elem("vpcId", sg.VPCID)
		x.elem("securityGroupArn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", s.opts.Region, s.opts.AccountID, sg.ID))
		x.WriteString("<ipPermissions/><ipPermissionsEgress/>")
		writeTagSet(x, st.d.EC2Tags[sg.ID])
	})
}

func (s *Server) ec2DeleteSecurityGroup(r *request) ([]byte, error) {
	id, _ := r.form.get("GroupId")
	name, _ := r.form.get("GroupName")
	if id == "" && name == "" {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter GroupId or GroupName")
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if id == "" {
		for _, sg := range st.d.SecurityGroups {
			if sg.Name == name && st.d.VPCs[sg.VPCID] != nil && st.d.VPCs[sg.VPCID].IsDefault {
				id = sg.ID
			}
		}
	}
	sg := st.d.SecurityGroups[id]
	if sg == nil {
		ref := id
		if ref == "" {
			ref = name
		}
		return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", ref)
	}
	if sg.Name == "default" {
		return nil, apiErr("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
	}
	for _, lb := range st.d.LoadBalancers {
		if contains(lb.LoadBalancer.SecurityGroups, id) {
			return nil, apiErr(codeDependencyViolation, "resource %s has a dependent object", id)
		}
	}
	delete(st.d.SecurityGroups, id)
	delete(st.d.EC2Tags, id)
	return []byte("<return>true</return>"), nil
}

// ec2Exists reports whether an EC2 resource ID names a VPC, subnet or
// security group.
func (st *store) ec2Exists(id string) bool {
	return st.d.VPCs[id] != nil || st.d.Subnets[id] != nil || st.d.SecurityGroups[id] != nil
}

func (st *store) ec2Type(id string) string {
	switch {
	case st.d.VPCs[id] != nil:
		return "vpc"
	case st.d.Subnets[id] != nil:
		return "subnet"
	default:
		return "security-group"
	}
}

func (s *Server) ec2CreateTags(r *request) ([]byte, error) {
	ids := ec2List(r.form, "ResourceId")
	tags := ec2Tags(r.form, "Tag")
	if len(ids) == 0 {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter ResourceId")
	}
	if len(tags) == 0 {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter Tag")
	}
	if err := validateEC2Tags(tags); err != nil {
		return nil, err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		if !st.ec2Exists(id) {
			return nil, ec2NotFound(id)
		}
		merged := append([]EC2Tag(nil), st.d.EC2Tags[id]...)
		n := len(merged)
		for _, t := range tags {
			found := false
			for _, m := range merged {
				found = found || m.Key == t.Key
			}
			if !found {
				n++
			}
		}
		if n > 50 {
			return nil, apiErr("TagLimitExceeded", "The maximum number of tags per resource is 50")
		}
	}
	for _, id := range ids {
		st.setEC2Tags(id, tags)
	}
	return []byte("<return>true</return>"), nil
}

func ec2NotFound(id string) error {
	switch {
	case strings.HasPrefix(id, "vpc-"):
		return apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	case strings.HasPrefix(id, "subnet-"):
		return apiErr("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	case strings.HasPrefix(id, "sg-"):
		return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	return apiErr("InvalidID", "The ID '%s' is not valid", id)
}

func (s *Server) ec2DeleteTags(r *request) ([]byte, error) {
	ids := ec2List(r.form, "ResourceId")
	if len(ids) == 0 {
		return nil, apiErr(codeMissingParameter, "The request must contain the parameter ResourceId")
	}
	// A tag with a value deletes only on a match; a key alone (Value
	// absent) deletes any value; no tags at all deletes every tag.
	type del struct {
		key, value string
		anyValue   bool
	}
	var dels []del
	for n := 1; ; n++ {
		p := "Tag." + strconv.Itoa(n)
		k, ok := r.form.get(p + ".Key")
		if !ok {
			break
		}
		v, hasV := r.form.get(p + ".Value")
		dels = append(dels, del{k, v, !hasV})
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		if !st.ec2Exists(id) {
			return nil, ec2NotFound(id)
		}
	}
	for _, id := range ids {
		var keep []EC2Tag
		for _, t := range st.d.EC2Tags[id] {
			drop := len(dels) == 0
			for _, d := range dels {
				drop = drop || d.key == t.Key && (d.anyValue || d.value == t.Value)
			}
			if !drop {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(st.d.EC2Tags, id)
		} else {
			st.d.EC2Tags[id] = keep
		}
	}
	return []byte("<return>true</return>"), nil
}

func (s *Server) ec2DescribeTags(r *request) ([]byte, error) {
	filters := ec2Filters(r.form)
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	type row struct {
		id, typ string
		tag     EC2Tag
		seq     uint64
	}
	var rows []row
	add := func(id string, seq uint64) {
		for _, t := range st.d.EC2Tags[id] {
			rows = append(rows, row{id, st.ec2Type(id), t, seq})
		}
	}
	for _, v := range sortedBySeq(st.d.VPCs, func(v *VPC) uint64 { return v.Seq }) {
		add(v.ID, v.Seq)
	}
	for _, v := range sortedBySeq(st.d.Subnets, func(v *Subnet) uint64 { return v.Seq }) {
		add(v.ID, v.Seq)
	}
	for _, v := range sortedBySeq(st.d.SecurityGroups, func(v *SecurityGroup) uint64 { return v.Seq }) {
		add(v.ID, v.Seq)
	}
	var match []row
	for _, rw := range rows {
		ok, err := matchFilters(filters, map[string]string{"resource-id": rw.id, "resource-type": rw.typ, "key": rw.tag.Key, "value": rw.tag.Value}, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			match = append(match, rw)
		}
	}
	return ec2PagedSet(r, "tagSet", match, func(x *xmlWriter, rw row) {
		x.elem("resourceId", rw.id)
		x.elem("resourceType", rw.typ)
		x.elem("key", rw.tag.Key)
		x.elem("value", rw.tag.Value)
	})
}
