package elbtest

// Quotas are the limits the endpoint enforces; zero fields take AWS's
// default (application/network load-balancer-limits).
type Quotas struct {
	LoadBalancers               int // per region, each of ALB and NLB: 50
	TargetGroups                int // per region: 3000
	ListenersPerLoadBalancer    int // 50
	RulesPerLoadBalancer        int // ALB, excluding default rules: 100
	TargetsPerTargetGroup       int // 1000
	TargetGroupsPerLoadBalancer int // unique, per ALB: 100
	TargetGroupsPerAction       int // 5
	CertificatesPerLoadBalancer int // 25
	TagsPerResource             int // 50
}

func (q Quotas) withDefaults() Quotas {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&q.LoadBalancers, 50)
	def(&q.TargetGroups, 3000)
	def(&q.ListenersPerLoadBalancer, 50)
	def(&q.RulesPerLoadBalancer, 100)
	def(&q.TargetsPerTargetGroup, 1000)
	def(&q.TargetGroupsPerLoadBalancer, 100)
	def(&q.TargetGroupsPerAction, 5)
	def(&q.CertificatesPerLoadBalancer, 25)
	def(&q.TagsPerResource, 50)
	return q
}
