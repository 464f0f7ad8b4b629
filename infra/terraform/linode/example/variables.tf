variable "region" {
  description = "Linode region, e.g. us-ord."
  type        = string
}

variable "authorized_keys" {
  description = "SSH public keys for root on every instance."
  type        = list(string)
}

variable "admin_cidrs" {
  description = "CIDRs allowed to SSH into the instances."
  type        = list(string)
  default     = []
}

variable "domain" {
  description = "The mail domain (its DNS zone is created on Linode)."
  type        = string
}

variable "soa_email" {
  description = "SOA contact address of the zone."
  type        = string
}

variable "edge_count" {
  description = "Number of SMTP edges (mx1, mx2, ...)."
  type        = number
  default     = 1
}

variable "worker_count" {
  description = "Number of workers."
  type        = number
  default     = 2
}

variable "gateway_count" {
  description = "Number of IMAP/POP3 gateways behind the NodeBalancer."
  type        = number
  default     = 2
}

variable "redis_password" {
  description = "Redis password, at least 32 characters (openssl rand -hex 24)."
  type        = string
  sensitive   = true
}

variable "bucket_name" {
  description = "Object Storage bucket for the messages."
  type        = string
}

variable "release_url" {
  description = "URL of dist/bucketmail-linux-amd64 from `make release`."
  type        = string
}

variable "release_sha256" {
  description = "Its SHA-256 (dist/SHA256SUMS)."
  type        = string
}

variable "extra_env" {
  description = "Extra BUCKETMAIL_* settings for every role."
  type        = map(string)
  default     = {}
}

variable "dkim_records" {
  description = "DKIM TXT values by selector (`bucketmail dkim list`)."
  type        = map(string)
  default     = {}
}

variable "dns_records_file" {
  description = "Path of the output of `bucketmail dns --format json DOMAIN`; empty lets the module build the records."
  type        = string
  default     = ""
}
