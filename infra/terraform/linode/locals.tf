locals {
  os_region = var.object_storage_region != "" ? var.object_storage_region : var.region
  # The endpoint host comes from the bucket: it depends on the region and
  # the endpoint type (E0 to E3), with no pattern to guess it from.
  s3_endpoint = var.object_storage_endpoint != "" ? var.object_storage_endpoint : trimprefix(linode_object_storage_bucket.mail.s3_endpoint, "https://")
  reports     = var.report_address != "" ? var.report_address : "postmaster@${var.domain}"

  gateway_fqdn = "${var.gateway_hostname}.${var.domain}"
  edge_fqdns   = [for i in range(var.edge_count) : "mx${i + 1}.${var.domain}"]
  worker_fqdns = [for i in range(var.worker_count) : "out${i + 1}.${var.domain}"]
  # Mail clients submit to the NodeBalancer when the edges sit behind it,
  # else straight to the first edge.
  submission_fqdn = var.submission_via_nodebalancer ? local.gateway_fqdn : local.edge_fqdns[0]

  store_url = "redis://:${urlencode(var.redis_password)}@${linode_instance.redis.private_ip_address}:6379/0"
  blobs_url = "s3://${linode_object_storage_bucket.mail.label}?endpoint=${local.s3_endpoint}&region=${local.os_region}&secure=true"

  # Settings shared by every role. Secrets are here too: the file is
  # written 0600 root and read by systemd before it drops privileges.
  # /metrics has no authentication: loopback only; scrape it with an agent
  # on the host, or move it with extra_env and a firewall rule.
  common_env = merge({
    BUCKETMAIL_STORE         = local.store_url
    BUCKETMAIL_BLOBS         = local.blobs_url
    BUCKETMAIL_S3_ACCESS_KEY = linode_object_storage_key.mail.access_key
    BUCKETMAIL_S3_SECRET_KEY = linode_object_storage_key.mail.secret_key
    BUCKETMAIL_DATA_DIR      = "/var/lib/bucketmail"
    BUCKETMAIL_HTTP_ADDR     = ":8080"
    BUCKETMAIL_METRICS_ADDR  = "127.0.0.1:8081"
    BUCKETMAIL_LOG_FORMAT    = "json"
  }, var.extra_env)

  # The NodeBalancer sends a PROXY protocol header (proxy_protocol) so the
  # backends see the client's address; they require it from the
  # NodeBalancer range and trust it from nowhere else ("" turns it off).
  proxy_from = var.proxy_protocol != "none" ? local.nodebalancer_cidr : ""

  role_env = {
    edge = {
      BUCKETMAIL_SMTP_ADDR           = ":25"
      BUCKETMAIL_SUBMISSION_ADDR     = ":587"
      BUCKETMAIL_SUBMISSIONS_ADDR    = ":465"
      BUCKETMAIL_PROXY_PROTOCOL_FROM = var.submission_via_nodebalancer ? local.proxy_from : ""
      BUCKETMAIL_READINESS_GATE      = var.submission_via_nodebalancer ? "true" : "false"
    }
    worker = {
      BUCKETMAIL_WORKER_CONCURRENCY = tostring(var.worker_concurrency)
    }
    gateway = {
      BUCKETMAIL_IMAP_ADDR           = ":143"
      BUCKETMAIL_IMAPS_ADDR          = ":993"
      BUCKETMAIL_POP3_ADDR           = ":110"
      BUCKETMAIL_POP3S_ADDR          = ":995"
      BUCKETMAIL_MANAGESIEVE_ADDR    = ":4190"
      BUCKETMAIL_PROXY_PROTOCOL_FROM = local.proxy_from
      BUCKETMAIL_READINESS_GATE      = "true"
    }
  }

  # The environment file of each role, KEY=value lines (systemd
  # EnvironmentFile= syntax; values are single-quoted so & and ? in URLs
  # stay literal).
  env_file = {
    for role, env in local.role_env : role => join("", [
      for k, v in merge(local.common_env, env) : "${k}='${replace(v, "'", "'\\''")}'\n"
    ])
  }

  # The environment file of each host: its host name, then its role's file.
  host_env = {
    edge    = [for h in local.edge_fqdns : format("BUCKETMAIL_HOSTNAME='%s'\n%s", h, local.env_file.edge)]
    worker  = [for h in local.worker_fqdns : format("BUCKETMAIL_HOSTNAME='%s'\n%s", h, local.env_file.worker)]
    gateway = [for i in range(var.gateway_count) : format("BUCKETMAIL_HOSTNAME='%s'\n%s", local.gateway_fqdn, local.env_file.gateway)]
  }

  redis_volume_label = "${var.label_prefix}-redis-data"

  units = {
    for role in keys(local.role_env) : role => file("${path.module}/../../systemd/bucketmail-${role}.service")
  }

  cloud_init = "${path.module}/templates/bucketmail.cloud-init.yaml.tftpl"
}
