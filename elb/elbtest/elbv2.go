package elbtest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// register adds one ELBv2 operation. The SDK's own input and output types
// are the schema: the request is decoded into In by field name, the
// response encoded from Out. run executes with the store locked (write
// lock for mutating operations) and the response is encoded before the
// lock is released, so it may return pointers into the store.
func register[In, Out any](s *Server, name string, required []string, run func(r *request, in *In) (*Out, error)) {
	mutating := isMutating(name)
	s.handlers[ELBv2Version+"/"+name] = &operation{name: name, service: serviceELBv2, mutating: mutating, run: func(r *request) ([]byte, error) {
		in := new(In)
		if err := decodeQuery(r.form, in); err != nil {
			return nil, err
		}
		v := reflect.ValueOf(in).Elem()
		for _, f := range required {
			fv := v.FieldByName(f)
			if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice) && fv.IsNil() {
				return nil, validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(f))
			}
		}
		if mutating {
			s.st.mu.Lock()
			defer s.st.mu.Unlock()
		} else {
			s.st.mu.RLock()
			defer s.st.mu.RUnlock()
		}
		out, err := run(r, in)
		if err != nil {
			return nil, err
		}
		var x xmlWriter
		encodeQuery(&x, reflect.ValueOf(out).Elem())
		return x.Bytes(), nil
	}}
}

func (s *Server) registerHandlers() {
	s.handlers = map[string]*operation{}
	s.registerEC2()
	register(s, "CreateLoadBalancer", []string{"Name"}, s.createLoadBalancer)
	register(s, "DescribeLoadBalancers", nil, s.describeLoadBalancers)
	register(s, "DeleteLoadBalancer", []string{"LoadBalancerArn"}, s.deleteLoadBalancer)
	register(s, "DescribeLoadBalancerAttributes", []string{"LoadBalancerArn"}, s.describeLoadBalancerAttributes)
	register(s, "ModifyLoadBalancerAttributes", []string{"LoadBalancerArn", "Attributes"}, s.modifyLoadBalancerAttributes)
	register(s, "SetSubnets", []string{"LoadBalancerArn"}, s.setSubnets)
	register(s, "SetSecurityGroups", []string{"LoadBalancerArn", "SecurityGroups"}, s.setSecurityGroups)
	register(s, "SetIpAddressType", []string{"LoadBalancerArn"}, s.setIPAddressType)
	register(s, "CreateTargetGroup", []string{"Name"}, s.createTargetGroup)
	register(s, "DescribeTargetGroups", nil, s.describeTargetGroups)
	register(s, "ModifyTargetGroup", []string{"TargetGroupArn"}, s.modifyTargetGroup)
	register(s, "DescribeTargetGroupAttributes", []string{"TargetGroupArn"}, s.describeTargetGroupAttributes)
	register(s, "ModifyTargetGroupAttributes", []string{"TargetGroupArn", "Attributes"}, s.modifyTargetGroupAttributes)
	register(s, "DeleteTargetGroup", []string{"TargetGroupArn"}, s.deleteTargetGroup)
	register(s, "RegisterTargets", []string{"TargetGroupArn", "Targets"}, s.registerTargets)
	register(s, "DeregisterTargets", []string{"TargetGroupArn", "Targets"}, s.deregisterTargets)
	register(s, "DescribeTargetHealth", []string{"TargetGroupArn"}, s.describeTargetHealth)
	register(s, "CreateListener", []string{"LoadBalancerArn", "DefaultActions"}, s.createListener)
	register(s, "ModifyListener", []string{"ListenerArn"}, s.modifyListener)
	register(s, "DescribeListeners", nil, s.describeListeners)
	register(s, "DeleteListener", []string{"ListenerArn"}, s.deleteListener)
	register(s, "DescribeListenerAttributes", []string{"ListenerArn"}, s.describeListenerAttributes)
	register(s, "ModifyListenerAttributes", []string{"ListenerArn", "Attributes"}, s.modifyListenerAttributes)
	register(s, "CreateRule", []string{"ListenerArn", "Conditions", "Priority", "Actions"}, s.createRule)
	register(s, "DescribeRules", nil, s.describeRules)
	register(s, "ModifyRule", []string{"RuleArn"}, s.modifyRule)
	register(s, "SetRulePriorities", []string{"RulePriorities"}, s.setRulePriorities)
	register(s, "DeleteRule", []string{"RuleArn"}, s.deleteRule)
	register(s, "AddTags", []string{"ResourceArns", "Tags"}, s.addTags)
	register(s, "RemoveTags", []string{"ResourceArns", "TagKeys"}, s.removeTags)
	register(s, "DescribeTags", []string{"ResourceArns"}, s.describeTags)
	register(s, "AddListenerCertificates", []string{"ListenerArn", "Certificates"}, s.addListenerCertificates)
	register(s, "RemoveListenerCertificates", []string{"ListenerArn", "Certificates"}, s.removeListenerCertificates)
	register(s, "DescribeListenerCertificates", []string{"ListenerArn"}, s.describeListenerCertificates)
	register(s, "DescribeSSLPolicies", nil, s.describeSSLPolicies)
	register(s, "DescribeAccountLimits", nil, s.describeAccountLimits)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func i32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// page applies Marker/PageSize to n items. The marker is an opaque
// encoding of the next offset; a marker this endpoint did not issue is a
// ValidationError.
func page(marker *string, pageSize *int32, n int) (start, end int, next *string, err error) {
	if marker != nil && *marker != "" {
		b, derr := base64.RawURLEncoding.DecodeString(*marker)
		off, aerr := strconv.Atoi(strings.TrimPrefix(string(b), "elbtest:"))
		if derr != nil || aerr != nil || !strings.HasPrefix(string(b), "elbtest:") || off < 0 || off > n {
			return 0, 0, nil, validationf("Invalid value for parameter marker: '%s'", *marker)
		}
		start = off
	}
	size := 400
	if pageSize != nil {
		if *pageSize < 1 || *pageSize > 400 {
			return 0, 0, nil, constraint(*pageSize, "pageSize", "Member must have value less than or equal to 400 and greater than or equal to 1")
		}
		size = int(*pageSize)
	}
	end = min(start+size, n)
	if end < n {
		next = ptr(base64.RawURLEncoding.EncodeToString([]byte("elbtest:" + strconv.Itoa(end))))
	}
	return start, end, next, nil
}

// arnKind returns the resource type of an ELBv2 ARN: "loadbalancer",
// "targetgroup", "listener" or "listener-rule".
func arnKind(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return ""
	}
	kind, _, _ := strings.Cut(parts[5], "/")
	return kind
}

func lbNotFound() error {
	return apiErr("LoadBalancerNotFound", "One or more load balancers not found")
}

func tgNotFound() error {
	return apiErr("TargetGroupNotFound", "One or more target groups not found")
}

func listenerNotFound() error {
	return apiErr("ListenerNotFound", "One or more listeners not found")
}

func ruleNotFound() error {
	return apiErr("RuleNotFound", "One or more rules not found")
}

func (s *Server) lb(arn string) (*LoadBalancerRecord, error) {
	if rec := s.st.d.LoadBalancers[arn]; rec != nil {
		return rec, nil
	}
	if arnKind(arn) != "loadbalancer" {
		return nil, validationf("'%s' is not a valid load balancer ARN", arn)
	}
	return nil, lbNotFound()
}

func (s *Server) tg(arn string) (*TargetGroupRecord, error) {
	if rec := s.st.d.TargetGroups[arn]; rec != nil {
		return rec, nil
	}
	if arnKind(arn) != "targetgroup" {
		return nil, validationf("'%s' is not a valid target group ARN", arn)
	}
	return nil, tgNotFound()
}

func (s *Server) listener(arn string) (*ListenerRecord, error) {
	if rec := s.st.d.Listeners[arn]; rec != nil {
		return rec, nil
	}
	if arnKind(arn) != "listener" {
		return nil, validationf("'%s' is not a valid listener ARN", arn)
	}
	return nil, listenerNotFound()
}

func (s *Server) rule(arn string) (*RuleRecord, error) {
	if rec := s.st.d.Rules[arn]; rec != nil {
		return rec, nil
	}
	if arnKind(arn) != "listener-rule" {
		return nil, validationf("'%s' is not a valid listener rule ARN", arn)
	}
	return nil, ruleNotFound()
}

// ---- tags ----

func (s *Server) validateTags(tags []types.Tag, existing []types.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := str(t.Key)
		if t.Key == nil || k == "" || len(k) > 128 {
			return constraint(k, "tags.member.key", "Member must have length less than or equal to 128 and greater than or equal to 1")
		}
		if len(str(t.Value)) > 256 {
			return constraint(str(t.Value), "tags.member.value", "Member must have length less than or equal to 256")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return validationf("Tag keys starting with 'aws:' are reserved for internal use")
		}
		if seen[k] {
			return apiErr("DuplicateTagKeys", "Tag key '%s' is duplicated", k)
		}
		seen[k] = true
	}
	if err := specErr(elb.ValidateTags(specTags(tags))); err != nil {
		return err
	}
	n := len(tags)
	for _, t := range existing {
		if !seen[str(t.Key)] {
			n++
		}
	}
	if n > s.opts.Quotas.TagsPerResource {
		return apiErr("TooManyTags", "The quota for the number of tags that can be assigned to a load balancer has been reached")
	}
	return nil
}

func mergeTags(cur, add []types.Tag) []types.Tag {
	out := append([]types.Tag(nil), cur...)
outer:
	for _, t := range add {
		for i := range out {
			if str(out[i].Key) == str(t.Key) {
				out[i].Value = ptr(str(t.Value))
				continue outer
			}
		}
		out = append(out, types.Tag{Key: ptr(str(t.Key)), Value: ptr(str(t.Value))})
	}
	return out
}

func (s *Server) resourceExists(arn string) error {
	var err error
	switch arnKind(arn) {
	case "loadbalancer":
		_, err = s.lb(arn)
	case "targetgroup":
		_, err = s.tg(arn)
	case "listener":
		_, err = s.listener(arn)
	case "listener-rule":
		_, err = s.rule(arn)
	default:
		err = validationf("'%s' is not a valid resource ARN", arn)
	}
	return err
}

func (s *Server) addTags(r *request, in *elbv2.AddTagsInput) (*elbv2.AddTagsOutput, error) {
	if len(in.ResourceArns) > 20 {
		return nil, constraint(len(in.ResourceArns), "resourceArns", "Member must have length less than or equal to 20")
	}
	if len(in.Tags) == 0 {
		return nil, constraint("[]", "tags", "Member must have length greater than or equal to 1")
	}
	for _, arn := range in.ResourceArns {
		if err := s.resourceExists(arn); err != nil {
			return nil, err
		}
		if err := s.validateTags(in.Tags, s.st.d.Tags[arn]); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ResourceArns {
		s.st.d.Tags[arn] = mergeTags(s.st.d.Tags[arn], in.Tags)
	}
	return &elbv2.AddTagsOutput{}, nil
}

func (s *Server) removeTags(r *request, in *elbv2.RemoveTagsInput) (*elbv2.RemoveTagsOutput, error) {
	if len(in.ResourceArns) > 20 {
		return nil, constraint(len(in.ResourceArns), "resourceArns", "Member must have length less than or equal to 20")
	}
	for _, arn := range in.ResourceArns {
		if err := s.resourceExists(arn); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ResourceArns {
		var keep []types.Tag
		for _, t := range s.st.d.Tags[arn] {
			if !contains(in.TagKeys, str(t.Key)) {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(s.st.d.Tags, arn)
		} else {
			s.st.d.Tags[arn] = keep
		}
	}
	return &elbv2.RemoveTagsOutput{}, nil
}

func (s *Server) describeTags(r *request, in *elbv2.DescribeTagsInput) (*elbv2.DescribeTagsOutput, error) {
	if len(in.ResourceArns) > 20 {
		return nil, constraint(len(in.ResourceArns), "resourceArns", "Member must have length less than or equal to 20")
	}
	out := &elbv2.DescribeTagsOutput{TagDescriptions: []types.TagDescription{}}
	for _, arn := range in.ResourceArns {
		if err := s.resourceExists(arn); err != nil {
			return nil, err
		}
		tags := s.st.d.Tags[arn]
		if tags == nil {
			tags = []types.Tag{}
		}
		out.TagDescriptions = append(out.TagDescriptions, types.TagDescription{ResourceArn: ptr(arn), Tags: tags})
	}
	return out, nil
}

// ---- names ----

// ---- SSL policies ----

var sslPolicies = []types.SslPolicy{
	{Name: ptr("ELBSecurityPolicy-2016-08"), SslProtocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2"}, Ciphers: ciphers("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "AES128-GCM-SHA256", "AES256-GCM-SHA384")},
	{Name: ptr("ELBSecurityPolicy-TLS-1-2-2017-01"), SslProtocols: []string{"TLSv1.2"}, Ciphers: ciphers("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "AES128-GCM-SHA256", "AES256-GCM-SHA384")},
	{Name: ptr("ELBSecurityPolicy-TLS13-1-2-2021-06"), SslProtocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: ciphers("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256")},
	{Name: ptr("ELBSecurityPolicy-TLS13-1-3-2021-06"), SslProtocols: []string{"TLSv1.3"}, Ciphers: ciphers("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")},
	{Name: ptr("ELBSecurityPolicy-FS-1-2-Res-2020-10"), SslProtocols: []string{"TLSv1.2"}, Ciphers: ciphers("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384")},
}

// defaultSSLPolicy is what an HTTPS or TLS listener gets when the request
// names none.
const defaultSSLPolicy = "ELBSecurityPolicy-2016-08"

func ciphers(names ...string) []types.Cipher {
	out := make([]types.Cipher, len(names))
	for i, n := range names {
		out[i] = types.Cipher{Name: ptr(n), Priority: ptr(int32(i + 1))}
	}
	return out
}

func knownSSLPolicy(name string) bool {
	for _, p := range sslPolicies {
		if *p.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) describeSSLPolicies(r *request, in *elbv2.DescribeSSLPoliciesInput) (*elbv2.DescribeSSLPoliciesOutput, error) {
	var match []types.SslPolicy
	for _, n := range in.Names {
		if !knownSSLPolicy(n) {
			return nil, apiErr("SSLPolicyNotFound", "SSL policy '%s' not found", n)
		}
	}
	for _, p := range sslPolicies {
		if len(in.Names) > 0 && !contains(in.Names, *p.Name) {
			continue
		}
		p.SupportedLoadBalancerTypes = []string{"application", "network"}
		match = append(match, p)
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(match))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeSSLPoliciesOutput{SslPolicies: match[start:end], NextMarker: next}, nil
}

func (s *Server) describeAccountLimits(r *request, in *elbv2.DescribeAccountLimitsInput) (*elbv2.DescribeAccountLimitsOutput, error) {
	q := s.opts.Quotas
	limits := []struct {
		name string
		max  int
	}{
		{"application-load-balancers", q.LoadBalancers},
		{"network-load-balancers", q.LoadBalancers},
		{"target-groups", q.TargetGroups},
		{"listeners-per-application-load-balancer", q.ListenersPerLoadBalancer},
		{"listeners-per-network-load-balancer", q.ListenersPerLoadBalancer},
		{"rules-per-application-load-balancer", q.RulesPerLoadBalancer},
		{"targets-per-target-group", q.TargetsPerTargetGroup},
		{"target-groups-per-application-load-balancer", q.TargetGroupsPerLoadBalancer},
		{"target-groups-per-action-on-application-load-balancer", q.TargetGroupsPerAction},
		{"certificates-per-application-load-balancer", q.CertificatesPerLoadBalancer},
		{"certificates-per-network-load-balancer", q.CertificatesPerLoadBalancer},
		{"condition-values-per-alb-rule", 5},
		{"condition-wildcards-per-alb-rule", 5},
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(limits))
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeAccountLimitsOutput{Limits: []types.Limit{}, NextMarker: next}
	for _, l := range limits[start:end] {
		out.Limits = append(out.Limits, types.Limit{Name: ptr(l.name), Max: ptr(strconv.Itoa(l.max))})
	}
	return out, nil
}

// sortStrings returns a sorted copy.
func sortStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	return fmt.Sprint(sortStrings(a)) == fmt.Sprint(sortStrings(b))
}
