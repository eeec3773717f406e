"""Settings, all from environment variables; defaults are the embedded development setup."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.accounts import passwords
from domain.common import cpu
from domain.db import DEFAULT_DATABASE_URL
from notifications.keyspace import PREFIX_PATTERN, default_prefix

if TYPE_CHECKING:
    from domain.accounts.key_encryption import KekRing
    from domain.common.retention import Retention


class SettingsError(RuntimeError):
    pass


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _log_format(value: str) -> str:
    if value not in ("json", "text"):
        raise SettingsError("LOG_FORMAT must be json or text")
    return value


def _password_hash_cost() -> tuple[int, int, int]:
    """PASSWORD_HASH_TIME_COST, PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_PARALLELISM (argon2id), each defaulting to
    domain/accounts/passwords.py's DEFAULT_COST."""
    time_cost, memory_kib, parallelism = passwords.DEFAULT_COST
    return (
        _int("PASSWORD_HASH_TIME_COST", time_cost),
        _int("PASSWORD_HASH_MEMORY_KIB", memory_kib),
        _int("PASSWORD_HASH_PARALLELISM", parallelism),
    )


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _share(name: str, default: float) -> float:
    value = os.environ.get(name)
    share = float(value) if value else default
    if not 0 <= share <= 1:
        raise SettingsError(f"{name} must be between 0 and 1")
    return share


def _gc_threshold() -> int:
    value = _int("GC_GEN0_THRESHOLD", 7000)
    if value < 0:
        raise SettingsError("GC_GEN0_THRESHOLD must be 0 (Python's own) or more")
    return value


def _oidc_issuer(production: bool) -> str | None:
    """OIDC_ISSUER: https (http only outside production), no query or fragment, not the access tokens' issuer."""
    value = (os.environ.get("OIDC_ISSUER") or "").strip().rstrip("/")
    if not value:
        return None
    if not value.startswith("https://") and (production or not value.startswith("http://")):
        raise SettingsError("OIDC_ISSUER must be an https URL")
    if "?" in value or "#" in value:
        raise SettingsError("OIDC_ISSUER must have no query or fragment")
    return value


def _roles(name: str) -> tuple[str, ...]:
    """A comma-separated list of roles, each checked."""
    from domain.common.actors import Role

    value = os.environ.get(name, "")
    roles = tuple(r.strip().lower() for r in value.split(",") if r.strip())
    for role in roles:
        if role not in Role._value2member_map_:
            raise SettingsError(f"{name}: unknown role {role!r}")
    return roles


@dataclass(frozen=True)
class Settings:
    production: bool = False
    database_url: str = DEFAULT_DATABASE_URL
    # processes of the deployment that open a pool on PostgreSQL, every machine's (api/pool_layout.py); 0: unchecked
    database_processes: int = 1
    redis_url: str | None = None
    # every Redis key and channel starts with this (notifications/keyspace.py); empty: derived per deployment
    redis_prefix: str = ""
    secret_key: bytes = b""
    jwt_issuer: str = "palmtrade"
    jwt_audience: str = "palmtrade-api"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    key_rotation_days: int = 30
    graphiql: bool = True
    # CORS (README: Browsers and CORS): origins whose pages may call the API; none, no CORS header at all
    cors_origins: tuple[str, ...] = ()
    cors_allow_credentials: bool = False
    cors_max_age: int = 600  # seconds a browser keeps a preflight's answer
    introspection: bool = True
    run_workers: bool = True
    seed_demo: bool = True
    dispatch_interval: float = 0.1
    scheduler_interval: float = 1.0
    audit_export_path: Path | None = Path("data/audit-heads.jsonl")
    audit_export_minutes: int = 5
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    max_cost: int = 5000
    max_page_size: int = 100
    # persisted operations (api/persisted.py): Apollo-style registration at run time, development only
    persisted_automatic: bool = True
    # production: these callers run only their client's operations from mobile_contract/manifest.json
    allowlist_kiosk: bool = False
    allowlist_integrator: bool = False
    allowlist_anonymous: bool = False
    # shared answers of public persisted queries (api/response_cache.py); 0 entries, bytes or seconds: off
    response_cache_entries: int = 2000
    response_cache_bytes: int = 64 * 1024 * 1024
    response_cache_seconds: int = 10
    # completed objects (published announcements' cards) reused across requests (schema/fragment_cache.py); 0: off
    fragment_cache_entries: int = 10_000
    # the mobile contract's queries and its bid executed from a plan built once per document (schema/lean.py);
    # False: graphql-core
    lean_persisted: bool = True
    ocds_prefix: str = "ocds-xxxxxx"
    # roles granted only to sessions signed in with a certificate and an SMS code (README: Certificates)
    two_factor_roles: tuple[str, ...] = ()
    fcm_credentials: str | None = None
    fcm_project_id: str | None = None
    fcm_access_token: str | None = None
    fcm_endpoint: str | None = None
    # APNs (token authentication) and JPush (mainland Android vendors): notifications/channels/
    apns_key_file: str | None = None
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    apns_endpoint: str = "https://api.push.apple.com"
    jpush_app_key: str | None = None
    jpush_master_secret: str | None = None
    jpush_endpoint: str | None = None
    jpush_production: bool = False
    push_interval: float = 0.2
    push_batch: int = 500
    push_senders: int = 2
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_format: str = "text"  # json: one JSON object a line with the request id and operation (api/logs.py)
    metrics_token: str | None = None  # /metrics answers only this bearer; in production, unset hides it
    # every process's counters in one folder (prometheus_client reads the variable itself, at import)
    prometheus_multiproc_dir: str | None = None
    # OpenTelemetry traces (api/tracing.py) go over OTLP/HTTP protobuf to this URL; None: off, the SDK not imported
    traces_endpoint: str | None = None
    traces_service_name: str = "palmtrade"
    # leaving (api/lifecycle.py): not ready but serving for the drain, then in-flight work gets the grace
    shutdown_drain_seconds: float = 0.0
    shutdown_grace_seconds: float = 30.0
    readiness_timeout: float = 1.0  # each readiness check (database, broker) answers within this or fails
    worker_health_port: int | None = None  # `worker` serves /healthz and /readyz here (on HOST)
    worker_stall_seconds: float = 300.0  # a worker loop without a finished step for this long is not ready
    # CPU-bound calls (argon2, certificate paths, files) off the event loop, at most this many at once; 0: inline
    cpu_pool_size: int = field(default_factory=cpu.default_size)
    # calls that may wait for a CPU pool thread; one more is refused at once as RATE_LIMITED (the server busy)
    cpu_pool_queue: int = cpu.DEFAULT_QUEUE
    # argon2id cost of new password and device-secret hashes: passes, memory in KiB, lanes (PASSWORD_HASH_*)
    password_hash_cost: tuple[int, int, int] = field(default_factory=lambda: _password_hash_cost())
    # failed password sign-ins per client address a minute and per number in 15 minutes, then RATE_LIMITED; 0: off
    signin_failures_per_address: int = 30
    signin_failures_per_number: int = 10
    # the same for machine clients (terminals' device secrets, integrators' client secrets): per client address a
    # minute, one count for both, and per device or client id in 15 minutes (domain/accounts/attempts.py); 0: off
    client_signin_failures_per_address: int = 30
    client_signin_failures_per_id: int = 10
    # `serve` migrates before it serves; off (behind a transaction-mode pooler), it refuses a database behind its
    # release and `python -m api.manage migrate` is a deploy step of its own
    migrate_at_start: bool = True
    # files (domain/documents): a folder by default, or S3-compatible object storage
    storage_url: str = "fs://data/files"
    storage_access_key_id: str | None = None
    storage_secret_access_key: str | None = None
    presigned_downloads: bool = True  # on object storage, download links go straight to it (presigned GET)
    clamd_address: str | None = None  # unix:/run/clamav/clamd.ctl or tcp://host:3310; required in production
    upload_hours: int = 24  # an unfinished upload expires (and its staged bytes are deleted) after this long
    # retention of the tables that only grow (domain/common/retention; README: Settings)
    outbox_retention_hours: int = 168
    push_delivery_retention_days: int = 90
    notification_retention_days: int = 365
    refresh_token_retention_days: int = 7
    # the garbage collector after start-up (api/gc_tuning.py): freeze what start-up made, and collect the youngest
    # generation after this many allocations (Python's 700 made full collections of the whole heap several times a
    # minute under load); 0: Python's own threshold
    gc_freeze: bool = True
    gc_gen0_threshold: int = 7000
    # the access log (api/logs.py AccessLog): every error and slow request, and this share of the others
    access_log_sample: float = 1.0
    access_log_slow_ms: int = 1000
    # each response of known length in one socket write, its head with its body (api/http_protocol.py); off: stock
    # uvicorn's two writes
    http_one_write: bool = True
    # how long `serve` keeps an idle HTTP connection open: longer than any client or proxy in front keeps one idle
    # (nginx's upstream keepalive_timeout is 60 s, Aliyun SLB's 15-60 s), so that the server never closes a
    # connection the moment its peer reuses it (uvicorn's own 5 s equals httpx's and races it: a reset request)
    http_keep_alive_seconds: int = 75
    # SMS (notifications/sms): providers in failover order; none in development (the log sender), required in
    # production
    sms_providers: tuple[str, ...] = ()
    sms: dict[str, str] = field(default_factory=dict)  # ALIYUN_SMS_* and TENCENT_SMS_* as read
    sms_callback_token: str | None = None  # the secret in the receipt callback URLs (/callbacks/sms/...?token=)
    # treasury payments and e-invoices through Nuonuo (domain/settlement/adapters.py): TREASURY_* and INVOICE_* as
    # read; none by default, so payment requests stay queued and invoicing answers INVOICE_PROVIDER_DOWN
    settlement: dict[str, str] = field(default_factory=dict)
    # key-encryption keys sealing the private signing keys (domain/accounts/key_encryption.py): KEY_ENCRYPTION_KEYS
    # ("id:<32 bytes base64url>", comma-separated, newest first) else KEY_ENCRYPTION_KEY_FILE (one a line); production
    # names one, development makes data/key-encryption-keys (mode 0600) on first run
    key_encryption_keys: tuple[str, ...] = ()
    key_encryption_key_file: str | None = "data/key-encryption-keys"
    # single sign-on (api/oidc.py): the provider's issuer URL; unset: the request's address in development, no
    # provider in production
    oidc_issuer: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def kek_ring(self) -> KekRing:
        """The key-encryption keys of this deployment (the file is made only outside production)."""
        from domain.accounts.key_encryption import local_ring

        return local_ring(self.key_encryption_keys, self.key_encryption_key_file, create=not self.production)

    def retention(self) -> Retention:
        """How long the tables that only grow keep their rows; SettingsError for a retention the domain refuses."""
        from domain.common.retention import Retention

        try:
            return Retention(
                outbox=timedelta(hours=self.outbox_retention_hours),
                push_delivery=timedelta(days=self.push_delivery_retention_days),
                notification=timedelta(days=self.notification_retention_days),
                refresh_token=timedelta(days=self.refresh_token_retention_days),
            )
        except ValueError as err:
            raise SettingsError(f"*_RETENTION_*: {err}") from None

    @property
    def redis_namespace(self) -> str:
        """REDIS_PREFIX, or a prefix derived from the Redis database number and the database."""
        return self.redis_prefix or default_prefix(self.redis_url or "redis://", self.database_url)

    @classmethod
    def from_env(cls) -> Settings:
        production = _bool("PALMTRADE_PRODUCTION", False)
        secret = os.environ.get("SECRET_KEY", "")
        if production and len(secret) < 32:
            raise SettingsError("SECRET_KEY of at least 32 characters is required in production")
        database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        export = os.environ.get("AUDIT_EXPORT_PATH", "data/audit-heads.jsonl")
        settings = cls(
            production=production,
            database_url=database_url,
            database_processes=_int("DATABASE_PROCESSES", 1),
            redis_url=os.environ.get("REDIS_URL") or None,
            redis_prefix=_redis_prefix(),
            secret_key=(secret or _dev_secret()).encode(),
            jwt_issuer=os.environ.get("JWT_ISSUER", "palmtrade"),
            jwt_audience=os.environ.get("JWT_AUDIENCE", "palmtrade-api"),
            access_token_minutes=_int("ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=_int("REFRESH_TOKEN_DAYS", 30),
            key_rotation_days=_int("KEY_ROTATION_DAYS", 30),
            graphiql=_bool("GRAPHIQL", not production),
            cors_origins=cors_origins_from_env(production),
            cors_allow_credentials=_bool("CORS_ALLOW_CREDENTIALS", False),
            cors_max_age=_int("CORS_MAX_AGE", 600),
            introspection=_bool("ANONYMOUS_INTROSPECTION", not production),
            run_workers=_bool("RUN_WORKERS", True),
            seed_demo=_bool("SEED_DEMO", not production),
            dispatch_interval=float(os.environ.get("DISPATCH_INTERVAL", "0.1")),
            scheduler_interval=float(os.environ.get("SCHEDULER_INTERVAL", "1.0")),
            audit_export_path=Path(export) if export else None,
            audit_export_minutes=_int("AUDIT_EXPORT_MINUTES", 5),
            max_depth=_int("GRAPHQL_MAX_DEPTH", 12),
            max_aliases=_int("GRAPHQL_MAX_ALIASES", 30),
            max_tokens=_int("GRAPHQL_MAX_TOKENS", 3000),
            max_cost=_int("GRAPHQL_MAX_COST", 5000),
            persisted_automatic=_bool("PERSISTED_QUERIES_AUTOMATIC", not production),
            allowlist_kiosk=_bool("ALLOWLIST_KIOSK", production),
            allowlist_integrator=_bool("ALLOWLIST_INTEGRATOR", production),
            allowlist_anonymous=_bool("ALLOWLIST_ANONYMOUS", production),
            response_cache_entries=_int("RESPONSE_CACHE_ENTRIES", 2000),
            response_cache_bytes=_int("RESPONSE_CACHE_BYTES", 64 * 1024 * 1024),
            response_cache_seconds=_int("RESPONSE_CACHE_SECONDS", 10),
            fragment_cache_entries=max(0, _int("FRAGMENT_CACHE_ENTRIES", 10_000)),
            lean_persisted=_bool("LEAN_PERSISTED", True),
            ocds_prefix=os.environ.get("OCDS_PREFIX", "ocds-xxxxxx"),
            oidc_issuer=_oidc_issuer(production),
            two_factor_roles=_roles("TWO_FACTOR_ROLES"),
            fcm_credentials=os.environ.get("FCM_CREDENTIALS") or None,
            fcm_project_id=os.environ.get("FCM_PROJECT_ID") or None,
            fcm_access_token=os.environ.get("FCM_ACCESS_TOKEN") or None,
            fcm_endpoint=os.environ.get("FCM_ENDPOINT") or None,
            apns_key_file=os.environ.get("APNS_KEY_FILE") or None,
            apns_key_id=os.environ.get("APNS_KEY_ID") or None,
            apns_team_id=os.environ.get("APNS_TEAM_ID") or None,
            apns_topic=os.environ.get("APNS_TOPIC") or None,
            apns_endpoint=os.environ.get("APNS_ENDPOINT") or "https://api.push.apple.com",
            jpush_app_key=os.environ.get("JPUSH_APP_KEY") or None,
            jpush_master_secret=os.environ.get("JPUSH_MASTER_SECRET") or None,
            jpush_endpoint=os.environ.get("JPUSH_ENDPOINT") or None,
            jpush_production=_bool("JPUSH_PRODUCTION", production),
            push_interval=float(os.environ.get("PUSH_INTERVAL", "0.2")),
            push_batch=_int("PUSH_BATCH", 500),
            push_senders=_int("PUSH_SENDERS", 2),
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            log_level=os.environ.get("LOG_LEVEL", "info"),
            log_format=_log_format(os.environ.get("LOG_FORMAT") or ("json" if production else "text")),
            metrics_token=os.environ.get("METRICS_TOKEN") or None,
            prometheus_multiproc_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
            traces_endpoint=_traces_endpoint(),
            traces_service_name=os.environ.get("OTEL_SERVICE_NAME") or "palmtrade",
            shutdown_drain_seconds=float(os.environ.get("SHUTDOWN_DRAIN_SECONDS") or (5 if production else 0)),
            shutdown_grace_seconds=float(os.environ.get("SHUTDOWN_GRACE_SECONDS") or 30),
            readiness_timeout=float(os.environ.get("READINESS_TIMEOUT") or 1),
            worker_health_port=_int("WORKER_HEALTH_PORT", 0) or None,
            worker_stall_seconds=float(os.environ.get("WORKER_STALL_SECONDS") or 300),
            cpu_pool_size=_int("CPU_POOL_SIZE", cpu.default_size()),
            cpu_pool_queue=_int("CPU_POOL_QUEUE", cpu.DEFAULT_QUEUE),
            password_hash_cost=_password_hash_cost(),
            signin_failures_per_address=_int("SIGNIN_FAILURES_PER_ADDRESS", 30),
            signin_failures_per_number=_int("SIGNIN_FAILURES_PER_NUMBER", 10),
            client_signin_failures_per_address=_int("CLIENT_SIGNIN_FAILURES_PER_ADDRESS", 30),
            client_signin_failures_per_id=_int("CLIENT_SIGNIN_FAILURES_PER_ID", 10),
            migrate_at_start=_bool("MIGRATE_AT_START", True),
            storage_url=os.environ.get("STORAGE_URL") or "fs://data/files",
            storage_access_key_id=os.environ.get("STORAGE_ACCESS_KEY_ID") or None,
            storage_secret_access_key=os.environ.get("STORAGE_SECRET_ACCESS_KEY") or None,
            presigned_downloads=_bool("STORAGE_PRESIGNED_DOWNLOADS", True),
            clamd_address=_clamd(production),
            upload_hours=_int("UPLOAD_HOURS", 24),
            outbox_retention_hours=_int("OUTBOX_RETENTION_HOURS", 168),
            push_delivery_retention_days=_int("PUSH_DELIVERY_RETENTION_DAYS", 90),
            notification_retention_days=_int("NOTIFICATION_RETENTION_DAYS", 365),
            refresh_token_retention_days=_int("REFRESH_TOKEN_RETENTION_DAYS", 7),
            gc_freeze=_bool("GC_FREEZE", True),
            gc_gen0_threshold=_gc_threshold(),
            access_log_sample=_share("ACCESS_LOG_SAMPLE", 1.0),
            access_log_slow_ms=_int("ACCESS_LOG_SLOW_MS", 1000),
            http_one_write=_bool("HTTP_ONE_WRITE", True),
            http_keep_alive_seconds=_int("HTTP_KEEP_ALIVE_SECONDS", 75),
            sms_providers=_sms_providers(production),
            sms={name: os.environ[name] for name in SMS_SETTINGS if os.environ.get(name)},
            sms_callback_token=os.environ.get("SMS_CALLBACK_TOKEN") or None,
            settlement={name: os.environ[name] for name in SETTLEMENT_SETTINGS if os.environ.get(name)},
            **_key_encryption(production),
        )
        settings.retention()  # a retention the domain refuses stops the start here, saying which
        return settings


SMS_PROVIDERS = ("aliyun", "tencent")
SETTLEMENT_SETTINGS = (
    "TREASURY_URL",
    "TREASURY_PLATFORM_JWK",
    "TREASURY_PLATFORM_KID",
    "TREASURY_PUBLIC_JWK",
    "TREASURY_CALLBACK_URL",
    "TREASURY_PAYER_ACCOUNT",
    "INVOICE_URL",
    "INVOICE_TOKEN_URL",
    "INVOICE_APP_KEY",
    "INVOICE_APP_SECRET",
    "INVOICE_ACCESS_TOKEN",
    "INVOICE_SELLER_TAX_NUM",
    "INVOICE_SELLER_NAME",
    "INVOICE_CLERK",
    "INVOICE_GOODS_CODE",
    "INVOICE_SERVICE_FEE_TAX_RATE_BP",
    "INVOICE_RESULT_POLL_S",
)
SMS_SETTINGS = (
    "ALIYUN_SMS_ACCESS_KEY_ID",
    "ALIYUN_SMS_ACCESS_KEY_SECRET",
    "ALIYUN_SMS_SIGN_NAME",
    "ALIYUN_SMS_TEMPLATES",
    "ALIYUN_SMS_ENDPOINT",
    "ALIYUN_SMS_PROTOCOL",
    "TENCENT_SMS_SECRET_ID",
    "TENCENT_SMS_SECRET_KEY",
    "TENCENT_SMS_SDK_APP_ID",
    "TENCENT_SMS_SIGN_NAME",
    "TENCENT_SMS_TEMPLATES",
    "TENCENT_SMS_ENDPOINT",
    "TENCENT_SMS_SCHEME",
    "ALIYUN_VOICE_ACCESS_KEY_ID",
    "ALIYUN_VOICE_ACCESS_KEY_SECRET",
    "ALIYUN_VOICE_SHOW_NUMBER",
    "ALIYUN_VOICE_TEMPLATE",
    "ALIYUN_VOICE_ENDPOINT",
    "ALIYUN_VOICE_PROTOCOL",
)


def _sms_providers(production: bool) -> tuple[str, ...]:
    """SMS_PROVIDERS in failover order; production refuses to start without one (codes would only be logged)."""
    value = os.environ.get("SMS_PROVIDERS", "")
    names = tuple(n.strip().lower() for n in value.split(",") if n.strip())
    for name in names:
        if name not in SMS_PROVIDERS:
            raise SettingsError(f"SMS_PROVIDERS: unknown provider {name!r} (aliyun, tencent)")
    if production and not names:
        raise SettingsError("SMS_PROVIDERS is required in production (aliyun, tencent): the log sender sends nothing")
    return names


def _key_encryption(production: bool) -> dict[str, Any]:
    """KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE, checked; production refuses to start without one named
    (a key file made beside the database would be copied with it)."""
    from domain.accounts.key_encryption import KekConfigurationError, parse_entries

    keys = tuple(k.strip() for k in os.environ.get("KEY_ENCRYPTION_KEYS", "").split(",") if k.strip())
    path = os.environ.get("KEY_ENCRYPTION_KEY_FILE") or None
    if production and not keys and path is None:
        raise SettingsError(
            "KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE is required in production: the private signing keys are "
            "stored sealed under it (python -c 'from domain.accounts.key_encryption import new_entry; "
            "print(new_entry())')"
        )
    try:
        parse_entries(keys)
    except KekConfigurationError as err:
        raise SettingsError(f"KEY_ENCRYPTION_KEYS: {err}") from None
    return {"key_encryption_keys": keys, "key_encryption_key_file": path or "data/key-encryption-keys"}


def _traces_endpoint() -> str | None:
    """Where spans go, by OpenTelemetry's own variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
    OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces; neither, OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none: off (the
    SDK's own default, otlp to localhost, would need a collector on every machine)."""
    exporter = (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").strip().lower()
    if _bool("OTEL_SDK_DISABLED", False) or exporter == "none":
        return None
    base = (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip()
    url = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "").strip() or (
        base.rstrip("/") + "/v1/traces" if base else ""
    )
    if not url:
        return None
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip() or "http/protobuf"
    if exporter != "otlp" or protocol != "http/protobuf":
        raise SettingsError(
            f"traces: only OTLP over http/protobuf is built in (OTEL_TRACES_EXPORTER={exporter}, protocol {protocol})"
        )
    return url


def _redis_prefix() -> str:
    """REDIS_PREFIX, checked: it goes into every key name and SCAN pattern."""
    value = os.environ.get("REDIS_PREFIX", "").strip()
    if value and not PREFIX_PATTERN.fullmatch(value):
        raise SettingsError(f"REDIS_PREFIX {value!r}: up to 100 letters, digits and . _ : -, first a letter or digit")
    return value


def cors_origins_from_env(production: bool) -> tuple[str, ...]:
    """CORS_ALLOWED_ORIGINS, comma-separated (`*` any); by default any origin in development, none in production."""
    value = os.environ.get("CORS_ALLOWED_ORIGINS")
    if value is None:
        return () if production else ("*",)
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


def _clamd(production: bool) -> str | None:
    """Where clamd listens; production refuses to start without a scanner (public files are scanned first)."""
    address = os.environ.get("CLAMD_ADDRESS") or None
    if production and address is None:
        raise SettingsError("CLAMD_ADDRESS is required in production: public files are scanned before publication")
    return address


def _dev_secret() -> str:
    """Development only: a random secret kept under ./data so codes survive a restart."""
    path = Path("data/dev-secret")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    return value
