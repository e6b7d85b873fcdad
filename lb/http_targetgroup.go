package lb

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPVersion is the protocol spoken to targets (ALB's target group
// ProtocolVersion).
type HTTPVersion uint8

// HTTP versions toward targets.
const (
	// HTTP1 sends HTTP/1.1 to targets (ALB's default).
	HTTP1 HTTPVersion = iota
	// HTTP2 sends HTTP/2: h2c (prior knowledge) to plain targets, h2 over
	// TLS to TLS targets.
	HTTP2
	// GRPC is HTTP2 for gRPC services: trailers pass through and the
	// health of a request is its grpc-status.
	GRPC
)

func (v HTTPVersion) String() string {
	switch v {
	case HTTP1:
		return "HTTP1"
	case HTTP2:
		return "HTTP2"
	case GRPC:
		return "GRPC"
	}
	return "HTTPVersion(" + strconv.Itoa(int(v)) + ")"
}

// StickinessType chooses how a client is pinned to a target.
type StickinessType uint8

// Stickiness types (ALB's stickiness.type).
const (
	// StickinessNone: every request is balanced.
	StickinessNone StickinessType = iota
	// StickinessLBCookie: the balancer sets AWSALB (and AWSALBCORS) naming
	// the target, valid for Duration.
	StickinessLBCookie
	// StickinessAppCookie: when the target sets CookieName, the balancer
	// adds AWSALBAPP-0 naming the target, valid for Duration.
	StickinessAppCookie
)

// Cookie names, as ALB spells them.
const (
	cookieLB              = "AWSALB"
	cookieLBCORS          = "AWSALBCORS"
	cookieApp             = "AWSALBAPP-0"
	cookieGroupStickiness = "AWSALBTG"
	// DefaultStickinessDuration is ALB's stickiness.lb_cookie.duration_seconds.
	DefaultStickinessDuration = 24 * time.Hour
)

// HTTPStickiness configures target stickiness for one group.
type HTTPStickiness struct {
	Type StickinessType
	// Duration of the stickiness cookie. Zero means one day (ALB default).
	Duration time.Duration
	// CookieName is the application's cookie (StickinessAppCookie only).
	CookieName string
}

// HTTPTargetGroup is a [TargetGroup] as an HTTP listener forwards to it:
// the group itself is protocol-neutral, and the HTTP-only settings (target
// protocol, stickiness cookies, passive health results) live here.
//
// Its fields must be set before the group is used by a proxy and not
// changed afterwards; the embedded TargetGroup's targets change at any
// time.
type HTTPTargetGroup struct {
	*TargetGroup
	// TLS dials targets with TLS. Target certificates are not verified,
	// as ELB does not verify them.
	TLS bool
	// Version is the protocol spoken to targets. Zero means HTTP1.
	Version HTTPVersion
	// Stickiness pins clients to targets with cookies. Zero is off.
	Stickiness HTTPStickiness
	// Transport overrides the proxy's transport for this group (nil: the
	// proxy's transport for TLS and Version).
	Transport http.RoundTripper
	// OnResult, if set, receives the result of every attempt to a target:
	// its status code (0 when no response arrived), the error, and the
	// time to response headers. Passive outlier detection plugs in here
	// and reports its verdict through TargetGroup.SetHealth. It runs on the
	// request's goroutine and must not block.
	OnResult func(addr string, status int, err error, elapsed time.Duration)
}

// NewHTTPTargetGroup creates a target group for HTTP listeners.
func NewHTTPTargetGroup(cfg TargetGroupConfig) (*HTTPTargetGroup, error) {
	tg, err := NewTargetGroup(cfg)
	if err != nil {
		return nil, err
	}
	return &HTTPTargetGroup{TargetGroup: tg}, nil
}

// Validate checks the HTTP settings.
func (g *HTTPTargetGroup) Validate() error {
	if g == nil || g.TargetGroup == nil {
		return fmt.Errorf("lb: HTTP target group has no TargetGroup")
	}
	if g.Version > GRPC {
		return fmt.Errorf("lb: target group %q: unknown HTTP version %d", g.Name(), g.Version)
	}
	if g.Stickiness.Type == StickinessAppCookie {
		n := g.Stickiness.CookieName
		if n == "" || strings.HasPrefix(n, "AWSALB") || strings.HasPrefix(n, "AWSALBAPP") || strings.HasPrefix(n, "AWSALBTG") {
			return fmt.Errorf("lb: target group %q: app cookie name %q is empty or reserved", g.Name(), n)
		}
	}
	if d := g.Stickiness.Duration; d < 0 || d > 7*24*time.Hour {
		return fmt.Errorf("lb: target group %q: stickiness duration %v out of range 1s-7d", g.Name(), d)
	}
	return nil
}

func (g *HTTPTargetGroup) stickinessDuration() time.Duration {
	if g.Stickiness.Duration == 0 {
		return DefaultStickinessDuration
	}
	return g.Stickiness.Duration
}

// stickyTarget returns the target a request's stickiness cookie names.
func (g *HTTPTargetGroup) stickyTarget(r *http.Request) string {
	var name string
	switch g.Stickiness.Type {
	case StickinessLBCookie:
		name = cookieLB
	case StickinessAppCookie:
		name = cookieApp
	default:
		return ""
	}
	c, err := r.Cookie(name)
	if err != nil && name == cookieLB {
		c, err = r.Cookie(cookieLBCORS)
	}
	if err != nil {
		return ""
	}
	return decodeTargetCookie(g.Name(), c.Value)
}

// Cookie values name the group and target, so a cookie issued by one group
// is not honoured by another. They are encoded, not encrypted: a client
// can only choose among eligible targets, which balancing does anyway.
func encodeTargetCookie(group, addr string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(group + "|" + addr))
}

func decodeTargetCookie(group, v string) string {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	gname, addr, ok := strings.Cut(string(b), "|")
	if !ok || gname != group {
		return ""
	}
	return addr
}

// setStickyCookies adds the stickiness cookies to a response from addr.
func (g *HTTPTargetGroup) setStickyCookies(h http.Header, addr string, res *http.Response) {
	d := g.stickinessDuration()
	exp := time.Now().Add(d).UTC()
	switch g.Stickiness.Type {
	case StickinessLBCookie:
		v := encodeTargetCookie(g.Name(), addr)
		h.Add("Set-Cookie", (&http.Cookie{Name: cookieLB, Value: v, Path: "/", Expires: exp}).String())
		h.Add("Set-Cookie", (&http.Cookie{Name: cookieLBCORS, Value: v, Path: "/", Expires: exp, SameSite: http.SameSiteNoneMode, Secure: true}).String())
	case StickinessAppCookie:
		for _, c := range res.Cookies() {
			if c.Name == g.Stickiness.CookieName {
				h.Add("Set-Cookie", (&http.Cookie{Name: cookieApp, Value: encodeTargetCookie(g.Name(), addr), Path: "/", Expires: exp}).String())
				return
			}
		}
	}
}
