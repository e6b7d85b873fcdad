package lb

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPRouter decides what the proxy does with a request. elb/local fills it
// with ALB listener-rule evaluation; a program can use [HTTPRouterFunc] or
// [ForwardTo].
//
// RouteHTTP is called once per request, from the request's goroutine,
// concurrently with other calls. It must not modify the request. Returning
// nil answers 503, as an ALB listener with no matching rule and no default
// action cannot exist.
type HTTPRouter interface {
	RouteHTTP(r *http.Request) HTTPAction
}

// HTTPRouterFunc adapts a function to [HTTPRouter].
type HTTPRouterFunc func(r *http.Request) HTTPAction

// RouteHTTP calls f(r).
func (f HTTPRouterFunc) RouteHTTP(r *http.Request) HTTPAction { return f(r) }

// HTTPAction is what a router returns: a [*ForwardAction], a
// [*RedirectAction] or a [*FixedResponseAction]. Routers should build their
// actions once and return the same pointers: the proxy only reads them.
type HTTPAction interface{ httpAction() }

func (*ForwardAction) httpAction()       {}
func (*RedirectAction) httpAction()      {}
func (*FixedResponseAction) httpAction() {}

var (
	_ HTTPAction = (*ForwardAction)(nil)
	_ HTTPAction = (*RedirectAction)(nil)
	_ HTTPAction = (*FixedResponseAction)(nil)
)

// ForwardTo returns a router that forwards every request to one group.
func ForwardTo(g *HTTPTargetGroup) HTTPRouter {
	a := &ForwardAction{Groups: []WeightedGroup{{Group: g, Weight: 1}}}
	return HTTPRouterFunc(func(*http.Request) HTTPAction { return a })
}

// ForwardAction forwards to one target group, or splits requests among
// several by weight (ALB's weighted forward action).
type ForwardAction struct {
	Groups []WeightedGroup
	// Stickiness, if positive, pins a client to the group it was first
	// sent to for this long, with the AWSALBTG cookie (ALB's target group
	// stickiness, 1 s to 7 days). Zero turns it off.
	Stickiness time.Duration
}

// WeightedGroup is one group of a forward action. Weight is relative
// (ALB: 0-999); a zero weight gets no new requests except through
// group stickiness.
type WeightedGroup struct {
	Group  *HTTPTargetGroup
	Weight int
}

// pick chooses a group by weight, honouring the group stickiness cookie.
func (a *ForwardAction) pick(r *http.Request, rnd uint64) (*HTTPTargetGroup, bool) {
	if len(a.Groups) == 1 {
		return a.Groups[0].Group, false
	}
	if a.Stickiness > 0 {
		if c, err := r.Cookie(cookieGroupStickiness); err == nil {
			for _, wg := range a.Groups {
				if wg.Group.Name() == c.Value {
					return wg.Group, true
				}
			}
		}
	}
	total := 0
	for _, wg := range a.Groups {
		total += max(wg.Weight, 0)
	}
	if total == 0 {
		return nil, false
	}
	x := int(rnd % uint64(total))
	for _, wg := range a.Groups {
		if x < max(wg.Weight, 0) {
			return wg.Group, false
		}
		x -= max(wg.Weight, 0)
	}
	return a.Groups[len(a.Groups)-1].Group, false
}

// RedirectAction answers with a redirect built from the request, as ALB's
// redirect action does. Each component may use #{protocol}, #{host},
// #{port}, #{path} and #{query}; an empty component keeps the request's.
// Path must start with "/" and Query must not start with "?".
type RedirectAction struct {
	Protocol string // "HTTP", "HTTPS" or "#{protocol}"
	Host     string
	Port     string
	Path     string
	Query    string
	// Permanent chooses 301 (HTTP_301) over 302 (HTTP_302).
	Permanent bool
}

// Validate checks the action against ALB's constraints.
func (a *RedirectAction) Validate() error {
	switch strings.ToUpper(a.Protocol) {
	case "", "HTTP", "HTTPS", "#{PROTOCOL}":
	default:
		return fmt.Errorf("lb: redirect protocol %q must be HTTP, HTTPS or #{protocol}", a.Protocol)
	}
	if a.Path != "" && !strings.HasPrefix(a.Path, "/") {
		return fmt.Errorf("lb: redirect path %q must start with /", a.Path)
	}
	if strings.HasPrefix(a.Query, "?") {
		return fmt.Errorf("lb: redirect query %q must not start with ?", a.Query)
	}
	return nil
}

// URL returns the redirect target for r. scheme is "http" or "https", the
// listener's; port is the listener's port.
func (a *RedirectAction) URL(r *http.Request, scheme, port string) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	query := r.URL.RawQuery
	sub := func(s string) string {
		if !strings.Contains(s, "#{") {
			return s
		}
		return strings.NewReplacer(
			"#{protocol}", scheme, "#{host}", host, "#{port}", port,
			"#{path}", strings.TrimPrefix(path, "/"), "#{query}", query,
		).Replace(s)
	}
	proto := strings.ToLower(sub(orDefault(a.Protocol, "#{protocol}")))
	h := sub(orDefault(a.Host, "#{host}"))
	p := sub(orDefault(a.Port, "#{port}"))
	// ALB's #{path} has no leading slash; its default Path is "/#{path}".
	pa := path
	if a.Path != "" {
		pa = sub(a.Path)
	}
	q := sub(orDefault(a.Query, "#{query}"))
	var b strings.Builder
	b.WriteString(proto)
	b.WriteString("://")
	b.WriteString(h)
	if !(proto == "http" && p == "80") && !(proto == "https" && p == "443") && p != "" {
		b.WriteByte(':')
		b.WriteString(p)
	}
	b.WriteString(pa)
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// FixedResponseAction answers without a target (ALB's fixed-response).
type FixedResponseAction struct {
	StatusCode  int    // 200-599; zero means 200
	ContentType string // zero means text/plain; charset=utf-8
	Body        string // ALB caps it at 1024 bytes
}

// Validate checks the action against ALB's constraints.
func (a *FixedResponseAction) Validate() error {
	if c := a.StatusCode; c != 0 && (c < 200 || c > 599 || (c >= 300 && c < 400)) {
		return fmt.Errorf("lb: fixed response status %d must be 2XX, 4XX or 5XX", a.StatusCode)
	}
	if len(a.Body) > 1024 {
		return fmt.Errorf("lb: fixed response body is %d bytes, ALB allows 1024", len(a.Body))
	}
	return nil
}

func (a *FixedResponseAction) serve(w http.ResponseWriter) int {
	code := a.StatusCode
	if code == 0 {
		code = http.StatusOK
	}
	ct := a.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(a.Body))
	return code
}
