# The instances of each role. Every one has a private IPv4 address (the
# Linode private network of the region), which carries Redis traffic and
# the NodeBalancer's connections to the backends.

resource "linode_instance" "edge" {
  count = var.edge_count

  label           = "${var.label_prefix}-edge-${count.index + 1}"
  region          = var.region
  type            = var.edge_type
  image           = var.image
  authorized_keys = var.authorized_keys
  private_ip      = true
  tags            = concat(var.tags, ["bucketmail", "bucketmail-edge"])

  metadata {
    user_data = base64encode(templatefile(local.cloud_init, {
      role           = "edge"
      hostname       = local.edge_fqdns[count.index]
      short_name     = "mx${count.index + 1}"
      release_url    = var.release_url
      release_sha256 = var.release_sha256
      unit_name      = "bucketmail-edge.service"
      unit_b64       = base64encode(local.units.edge)
      env_b64        = base64encode(format("BUCKETMAIL_HOSTNAME='%s'\n%s", local.edge_fqdns[count.index], local.env_file.edge))
    }))
  }
}

resource "linode_instance" "worker" {
  count = var.worker_count

  label           = "${var.label_prefix}-worker-${count.index + 1}"
  region          = var.region
  type            = var.worker_type
  image           = var.image
  authorized_keys = var.authorized_keys
  private_ip      = true
  tags            = concat(var.tags, ["bucketmail", "bucketmail-worker"])

  metadata {
    user_data = base64encode(templatefile(local.cloud_init, {
      role           = "worker"
      hostname       = local.worker_fqdns[count.index]
      short_name     = "out${count.index + 1}"
      release_url    = var.release_url
      release_sha256 = var.release_sha256
      unit_name      = "bucketmail-worker.service"
      unit_b64       = base64encode(local.units.worker)
      env_b64        = base64encode(format("BUCKETMAIL_HOSTNAME='%s'\n%s", local.worker_fqdns[count.index], local.env_file.worker))
    }))
  }
}

resource "linode_instance" "gateway" {
  count = var.gateway_count

  label           = "${var.label_prefix}-gateway-${count.index + 1}"
  region          = var.region
  type            = var.gateway_type
  image           = var.image
  authorized_keys = var.authorized_keys
  private_ip      = true
  tags            = concat(var.tags, ["bucketmail", "bucketmail-gateway"])

  metadata {
    user_data = base64encode(templatefile(local.cloud_init, {
      role           = "gateway"
      hostname       = local.gateway_fqdn
      short_name     = "gateway${count.index + 1}"
      release_url    = var.release_url
      release_sha256 = var.release_sha256
      unit_name      = "bucketmail-gateway.service"
      unit_b64       = base64encode(local.units.gateway)
      env_b64        = base64encode(format("BUCKETMAIL_HOSTNAME='%s'\n%s", local.gateway_fqdn, local.env_file.gateway))
    }))
  }
}

# Redis: the index, queue and directory. Private only: it binds to its
# private address (and loopback), requires a password, and its firewall
# admits only this deployment's instances.
resource "linode_instance" "redis" {
  label           = "${var.label_prefix}-redis"
  region          = var.region
  type            = var.redis_type
  image           = var.image
  authorized_keys = var.authorized_keys
  private_ip      = true
  tags            = concat(var.tags, ["bucketmail", "bucketmail-redis"])

  metadata {
    user_data = base64encode(templatefile("${path.module}/templates/redis.cloud-init.yaml.tftpl", {
      redis_conf_b64 = base64encode(join("\n", [
        "# Written by cloud-init (bucketmail Terraform module).",
        "appendonly yes",
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        "maxmemory-policy noeviction",
        "protected-mode yes",
        "requirepass ${var.redis_password}",
        "",
      ]))
    }))
  }
}
