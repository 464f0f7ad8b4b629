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
      env_b64        = base64encode(local.host_env.edge[count.index])
    }))
  }

  # User data is read once, at the first boot, and the provider replaces
  # an instance whose user data changes (new addresses, PTR, SPF). So
  # later changes (release, extra_env, keys, passwords) do not replace
  # anything: roll them out with the commands of docs/deploy-linode.md,
  # "Changing settings".
  lifecycle {
    ignore_changes = [metadata]
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
      env_b64        = base64encode(local.host_env.worker[count.index])
    }))
  }

  # User data is read once, at the first boot, and the provider replaces
  # an instance whose user data changes (new addresses, PTR, SPF). So
  # later changes (release, extra_env, keys, passwords) do not replace
  # anything: roll them out with the commands of docs/deploy-linode.md,
  # "Changing settings".
  lifecycle {
    ignore_changes = [metadata]
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
      env_b64        = base64encode(local.host_env.gateway[count.index])
    }))
  }

  # User data is read once, at the first boot, and the provider replaces
  # an instance whose user data changes (new addresses, PTR, SPF). So
  # later changes (release, extra_env, keys, passwords) do not replace
  # anything: roll them out with the commands of docs/deploy-linode.md,
  # "Changing settings".
  lifecycle {
    ignore_changes = [metadata]
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
      volume_label = local.redis_volume_label
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

  # User data is read once, at the first boot, and the provider replaces
  # an instance whose user data changes (new addresses, PTR, SPF). So
  # later changes (release, extra_env, keys, passwords) do not replace
  # anything: roll them out with the commands of docs/deploy-linode.md,
  # "Changing settings".
  lifecycle {
    ignore_changes = [metadata]
  }
}

# The Redis data (AOF and snapshots) lives on this volume, not on the
# instance's disk: replacing or rebuilding the Redis instance attaches the
# same volume to the new one and keeps the index, queue and directory.
resource "linode_volume" "redis" {
  label     = local.redis_volume_label
  region    = var.region
  size      = var.redis_volume_size
  linode_id = linode_instance.redis.id
  tags      = concat(var.tags, ["bucketmail", "bucketmail-redis"])
}
