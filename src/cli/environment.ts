/**
 * The environment variables the commands read, described once: every command's --help lists the ones it
 * reads (its `environment`), and the README's CLI section is checked against this table by a test.
 * Where a variable is validated stays where it always was (apiEnv.ts, engineEnvironment, the tracing
 * settings...): this is its documentation, not its parser.
 */
export interface EnvironmentVariable {
  /** What it sets, as a user needs to know it. */
  readonly meaning: string;
  /** What applies when it is unset or empty. */
  readonly default?: string;
}

export const ENVIRONMENT = {
  SIE_DATABASE_URL: {
    meaning: 'the PostgreSQL database of models, configs, runs and events (a password in it is never printed)',
    default: 'postgres://postgres@127.0.0.1:5432/sie',
  },
  SIE_DATA_DIR: {
    meaning: "the API's copy of uploaded models (DIR/models/; the weights every engine runs are in PostgreSQL) and the engine's default model cache (DIR/model-cache/)",
    default: './.sie',
  },
  SIE_MODEL_CACHE_DIR: { meaning: "the engine's cache of model weights fetched from PostgreSQL or the S3 store, by sha256", default: 'SIE_DATA_DIR/model-cache' },
  SIE_MODEL_CACHE_MAX_BYTES: { meaning: 'the model cache\'s size cap in bytes: past it, models no run uses are removed, least recently used first', default: '4294967296 (4 GiB)' },
  SIE_MODEL_S3_URL: {
    meaning:
      "s3://BUCKET[/PREFIX]: the S3-compatible store for big models' weights, at <PREFIX>/<sha256>.onnx (the API writes there, every engine reads there; credentials from the AWS SDK's chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, web identity, instance role)",
    default: 'unset: every model in PostgreSQL',
  },
  SIE_S3_ENDPOINT: { meaning: 'http(s)://HOST[:PORT] of an S3-compatible server (MinIO, Ceph...), without credentials', default: 'unset: AWS S3' },
  SIE_S3_REGION: { meaning: "the S3 store's region", default: 'us-east-1' },
  SIE_S3_FORCE_PATH_STYLE: { meaning: 'true: http://ENDPOINT/BUCKET/KEY, false: http://BUCKET.ENDPOINT/KEY', default: 'true with SIE_S3_ENDPOINT, else false' },
  SIE_MODEL_S3_MIN_BYTES: { meaning: 'weights of this many bytes or more go to the S3 store, smaller ones to PostgreSQL (0: all to S3)', default: '67108864 (64 MiB)' },
  SIE_MAX_MODEL_BYTES: { meaning: 'the largest ONNX upload accepted, in bytes (larger: 413)', default: '524288000 (500 MB)' },
  SIE_RTSP_PUBLIC_URL: {
    meaning: "the base of every run's output_url, rtsp://host[:port] (a Service in front of every engine: any engine redirects a run it does not hold to the one that does)",
    default: "unset: the holding engine's own address",
  },
  SIE_MEDIA_ROOT: { meaning: 'the directory file:// sources must be under (as --media-root)', default: 'unset: file sources are refused' },
  SIE_MQTT_URL: { meaning: 'an MQTT broker (mqtt:// or mqtts://) every event is also published to (as --mqtt-url)', default: 'unset: no MQTT' },
  SIE_EVENT_RETENTION_HOURS: { meaning: 'how long events stay in the database before they are pruned', default: '24' },
  SIE_CAMERA_PASSWORD: { meaning: "the password clients must give with --user, when there is no --password-file" },
  SIE_INSPECT: { meaning: "a ws:// URL of `sie inspect`: the machines appear live in Stately's inspector", default: 'unset: off' },
  SIE_LOG_FORMAT: { meaning: 'the logs on stderr: json (one object a line) or pretty (one readable line each)', default: 'pretty on a terminal, else json' },
  SIE_LOG_LEVEL: { meaning: 'the log level (trace, debug, info, warn, error, fatal, silent)', default: 'info; replay and bench: warn' },
  SIE_TRACE_SAMPLE_EVERY: { meaning: 'tracing: keep 1 frame in N (as --trace-sample-every), plus every slow, dropped or event frame', default: '10' },
  SIE_TRACE_SLOW_MS: { meaning: 'tracing: a frame slower than this is always kept', default: '250' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { meaning: 'tracing: the OTLP collector; setting it (or OTEL_TRACES_EXPORTER) turns frame tracing on', default: 'unset: off' },
  SIE_SHARED: { meaning: "the shared assets folder (media/, models/) the defaults of --media, --model and --labels are read from", default: '../shared' },
  SIE_PG_BIN: { meaning: "where PostgreSQL's server programs are (initdb, pg_ctl): sie bench --scale starts a private PostgreSQL", default: '/usr/lib/postgresql/15/bin' },
} as const satisfies Record<string, EnvironmentVariable>;

export type EnvironmentName = keyof typeof ENVIRONMENT;

/** The S3 store as an engine reads it: where, and how to reach it (the threshold is the API's alone). */
export const MODEL_S3_READ_ENVIRONMENT = ['SIE_MODEL_S3_URL', 'SIE_S3_ENDPOINT', 'SIE_S3_REGION', 'SIE_S3_FORCE_PATH_STYLE'] as const satisfies readonly EnvironmentName[];
/** The S3 store as the API reads it: the engine's settings and the threshold. */
export const MODEL_S3_ENVIRONMENT = [...MODEL_S3_READ_ENVIRONMENT, 'SIE_MODEL_S3_MIN_BYTES'] as const satisfies readonly EnvironmentName[];

/** Read by every command that runs a pipeline with tracing: run, engine, serve. */
export const TRACING_ENVIRONMENT = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'SIE_TRACE_SAMPLE_EVERY', 'SIE_TRACE_SLOW_MS'] as const satisfies readonly EnvironmentName[];

