package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/esimd/esimd/internal/web"
)

// TracingConfig turns on OpenTelemetry tracing. With Endpoint empty,
// tracing is off and costs nothing.
type TracingConfig struct {
	// Endpoint is the OTLP/HTTP collector, as host:port or a URL
	// (http://collector:4318); the path /v1/traces is added when missing.
	Endpoint string
	// Insecure sends to the collector over plain HTTP.
	Insecure bool
	// SampleRatio is the share of new traces recorded (0 means 1: all).
	// Requests that arrive with a sampled traceparent are always recorded.
	SampleRatio float64
	// ServiceName names this process in traces; "" means esimd.
	ServiceName string
	// Exporter, when set, receives every span as it ends instead of an
	// OTLP collector (tests, or a process embedding esimd).
	Exporter sdktrace.SpanExporter
}

// tracing is the tracer provider behind request spans, and the way to shut
// it down (flushing what is buffered).
type tracing struct {
	tracer   trace.Tracer
	provider *sdktrace.TracerProvider
	prop     propagation.TextMapPropagator
}

func newTracing(ctx context.Context, cfg TracingConfig) (*tracing, error) {
	if cfg.Endpoint == "" && cfg.Exporter == nil {
		return &tracing{tracer: noop.NewTracerProvider().Tracer("esimd")}, nil
	}
	export := sdktrace.WithSyncer(cfg.Exporter)
	if cfg.Exporter == nil {
		exp, err := otlpExporter(ctx, cfg)
		if err != nil {
			return nil, err
		}
		export = sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second))
	}
	name := cfg.ServiceName
	if name == "" {
		name = "esimd"
	}
	ratio := cfg.SampleRatio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	res := resource.NewSchemaless(attribute.String("service.name", name))
	tp := sdktrace.NewTracerProvider(export, sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))))
	return &tracing{tracer: tp.Tracer("github.com/esimd/esimd"), provider: tp,
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}, nil
}

// otlpExporter sends spans to the OTLP/HTTP collector of cfg.
func otlpExporter(ctx context.Context, cfg TracingConfig) (sdktrace.SpanExporter, error) {
	opts := []otlptracehttp.Option{}
	if u := cfg.Endpoint; len(u) > 7 && (u[:7] == "http://" || (len(u) > 8 && u[:8] == "https://")) {
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	} else {
		opts = append(opts, otlptracehttp.WithEndpoint(u))
	}
	if cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP endpoint %q: %w", cfg.Endpoint, err)
	}
	return exp, nil
}

// wrap gives every request a server span named by the route pattern that
// served it, continuing a trace the caller sent in traceparent. The span
// is in the request's context, so spans started below (use cases, outside
// calls) nest under it.
func (t *tracing) wrap(next http.Handler) http.Handler {
	if t.provider == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		rec := &web.StatusRecorder{ResponseWriter: w}
		ctx, route := web.WithRouteSlot(ctx)
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		if *route != "" {
			span.SetName(*route)
			span.SetAttributes(attribute.String("http.route", *route))
		}
		span.SetAttributes(attribute.Int("http.response.status_code", rec.Code()))
		if id := web.RequestID(ctx); id != "" {
			span.SetAttributes(attribute.String("esimd.request_id", id))
		}
	})
}

// Tracer is the tracer of the application's spans (a no-op one when
// tracing is off).
func (a *App) Tracer() trace.Tracer { return a.tracing.tracer }

func (t *tracing) shutdown(ctx context.Context) {
	if t.provider == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = t.provider.Shutdown(ctx)
}
