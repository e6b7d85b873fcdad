package lb

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// accessLog writes one record with ALB's access log fields
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html),
// named as ALB's field list names them. Times are seconds as in ALB's log;
// -1 means "not reached", as ALB writes it.
func (p *HTTPProxy) accessLog(r *http.Request, ri *reqInfo) {
	typ := "http"
	if r.TLS != nil {
		typ = "https"
		if r.ProtoMajor == 2 {
			typ = "h2"
		}
	} else if r.ProtoMajor == 2 {
		typ = "h2c"
	}
	if upgradeType(r.Header) != "" || ri.targetStatus == http.StatusSwitchingProtocols {
		typ = "ws"
		if r.TLS != nil {
			typ = "wss"
		}
	}
	total := time.Since(ri.start)
	reqTime, targetTime, respTime := -1.0, -1.0, -1.0
	if ri.targetTime >= 0 {
		targetTime = ri.targetTime.Seconds()
		reqTime = 0
		respTime = max(total-ri.targetTime, 0).Seconds()
	}
	target, targetStatus := "-", "-"
	if ri.target != "" {
		target = ri.target
	}
	if ri.targetStatus != 0 {
		targetStatus = strconv.Itoa(ri.targetStatus)
	}
	tg := "-"
	if ri.group != nil {
		tg = ri.group.Name()
	}
	var sslCipher, sslProto, sni = "-", "-", "-"
	if r.TLS != nil {
		sslCipher = tlsCipherName(r.TLS.CipherSuite)
		sslProto = tlsVersionName(r.TLS.Version)
		if r.TLS.ServerName != "" {
			sni = r.TLS.ServerName
		}
	}
	scheme, port := listenerSchemePort(r)
	line := r.Method + " " + scheme + "://" + r.Host + r.URL.RequestURI() + " " + r.Proto
	p.AccessLog.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("type", typ),
		slog.Time("time", ri.start.Add(total)),
		slog.String("elb", p.Name),
		slog.String("client:port", r.RemoteAddr),
		slog.String("target:port", target),
		slog.Float64("request_processing_time", reqTime),
		slog.Float64("target_processing_time", targetTime),
		slog.Float64("response_processing_time", respTime),
		slog.Int("elb_status_code", ri.status),
		slog.String("target_status_code", targetStatus),
		slog.Int64("received_bytes", max(r.ContentLength, 0)),
		slog.Int64("sent_bytes", ri.sent),
		slog.String("request", line),
		slog.String("user_agent", r.UserAgent()),
		slog.String("ssl_cipher", sslCipher),
		slog.String("ssl_protocol", sslProto),
		slog.String("target_group", tg),
		slog.String("trace_id", orDefault(ri.traceID, "-")),
		slog.String("domain_name", sni),
		slog.String("listener_port", port),
		slog.String("actions_executed", orDefault(ri.action, "-")),
		slog.String("redirect_url", orDefault(ri.redirect, "-")),
		slog.String("error_reason", orDefault(ri.errReason, "-")),
		slog.Int("attempts", ri.attempts),
	)
}
