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

  region          = var.region
  authorized_keys = var.authorized_keys
  admin_cidrs     = var.admin_cidrs

  domain    = var.domain
  soa_email = var.soa_email

  edge_count    = var.edge_count
  worker_count  = var.worker_count
  gateway_count = var.gateway_count

  redis_password = var.redis_password
  bucket_name    = var.bucket_name

  release_url    = var.release_url
  release_sha256 = var.release_sha256

  extra_env    = var.extra_env
  dkim_records = var.dkim_records
  dns_records  = var.dns_records_file != "" ? jsondecode(file(var.dns_records_file)) : []
}
