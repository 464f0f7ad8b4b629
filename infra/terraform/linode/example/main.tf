# Example root module: a bucketmail deployment on Linode.
#
#   export LINODE_TOKEN=...            # a personal access token (see docs/deploy-linode.md)
#   cp terraform.tfvars.example terraform.tfvars && $EDITOR terraform.tfvars
#   terraform init && terraform apply
#
# The policy records (MX, SPF, DKIM, DMARC, MTA-STS, autoconfig) come from
# `bucketmail dns --format json DOMAIN > dns.json` when dns_records_file is
# set, else the module builds them (see its variables).

terraform {
  required_version = ">= 1.5"

  required_providers {
    linode = {
      source  = "linode/linode"
      version = "~> 3.13"
    }
  }
}

# The token comes from LINODE_TOKEN in the environment, never from a file
# that might be committed.
provider "linode" {}

module "bucketmail" {
  source = "../"

  # Every variable of the module, passed through.
  label_prefix                 = var.label_prefix
  region                       = var.region
  image                        = var.image
  authorized_keys              = var.authorized_keys
  admin_cidrs                  = var.admin_cidrs
  tags                         = var.tags
  domain                       = var.domain
  soa_email                    = var.soa_email
  gateway_hostname             = var.gateway_hostname
  edge_count                   = var.edge_count
  edge_type                    = var.edge_type
  worker_count                 = var.worker_count
  worker_type                  = var.worker_type
  worker_concurrency           = var.worker_concurrency
  gateway_count                = var.gateway_count
  gateway_type                 = var.gateway_type
  submission_via_nodebalancer  = var.submission_via_nodebalancer
  proxy_protocol               = var.proxy_protocol
  redis_type                   = var.redis_type
  redis_volume_size            = var.redis_volume_size
  redis_password               = var.redis_password
  bucket_name                  = var.bucket_name
  object_storage_region        = var.object_storage_region
  object_storage_endpoint_type = var.object_storage_endpoint_type
  object_storage_endpoint      = var.object_storage_endpoint
  release_url                  = var.release_url
  release_sha256               = var.release_sha256
  extra_env                    = var.extra_env
  dns_records                  = var.dns_records_file != "" ? jsondecode(file(var.dns_records_file)) : []
  spf_mechanisms               = var.spf_mechanisms
  relay_spf                    = var.relay_spf
  dkim_records                 = var.dkim_records
  dmarc_policy                 = var.dmarc_policy
  report_address               = var.report_address
  mta_sts_id                   = var.mta_sts_id
  dns_ttl                      = var.dns_ttl
}
