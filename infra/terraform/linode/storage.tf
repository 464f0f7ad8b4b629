# The bucket of message objects (and DKIM keys and index snapshots), and a
# key that can reach only that bucket.

resource "linode_object_storage_bucket" "mail" {
  label         = var.bucket_name
  region        = local.os_region
  endpoint_type = var.object_storage_endpoint_type
}

resource "linode_object_storage_key" "mail" {
  label = "${var.label_prefix}-mail"

  bucket_access {
    bucket_name = linode_object_storage_bucket.mail.label
    region      = linode_object_storage_bucket.mail.region
    permissions = "read_write"
  }
}
