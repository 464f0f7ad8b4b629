package s3

import (
	"errors"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want config
	}{
		{"s3://mail", config{Bucket: "mail", Endpoint: "s3.us-east-1.amazonaws.com", Region: "us-east-1", Secure: true}},
		{"s3://mail?region=eu-west-3", config{Bucket: "mail", Endpoint: "s3.eu-west-3.amazonaws.com", Region: "eu-west-3", Secure: true}},
		{"s3://mail/prod/eu?endpoint=us-east-1.linodeobjects.com&region=us-east-1",
			config{Bucket: "mail", Prefix: "prod/eu/", Endpoint: "us-east-1.linodeobjects.com", Region: "us-east-1", Secure: true}},
		{"s3://mail/?endpoint=minio.internal:9000&secure=false&path_style=true",
			config{Bucket: "mail", Endpoint: "minio.internal:9000", Region: "us-east-1", PathStyle: true}},
		{"s3://mail?endpoint=127.0.0.1:9000&secure=false", // IP: path style by default
			config{Bucket: "mail", Endpoint: "127.0.0.1:9000", Region: "us-east-1", PathStyle: true}},
		{"s3://mail?endpoint=[::1]:9000", config{Bucket: "mail", Endpoint: "[::1]:9000", Region: "us-east-1", Secure: true, PathStyle: true}},
		{"s3://mail?endpoint=localhost:9000", config{Bucket: "mail", Endpoint: "localhost:9000", Region: "us-east-1", Secure: true, PathStyle: true}},
		{"s3://mail?endpoint=127.0.0.1:9000&path_style=false", // explicit wins
			config{Bucket: "mail", Endpoint: "127.0.0.1:9000", Region: "us-east-1", Secure: true}},
		{"s3://mail?endpoint=rgw.example.org&path_style=1&secure=0",
			config{Bucket: "mail", Endpoint: "rgw.example.org", Region: "us-east-1", PathStyle: true}},
	} {
		got, err := parseURL(tc.url)
		if err != nil {
			t.Errorf("parseURL(%q): %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("parseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"",
		"file:///tmp/x",
		"s3://",
		"s3:///prefix",
		"s3://mail?endpoint=https://s3.example.org",
		"s3://mail?endpoint=host/path",
		"s3://mail?secure=maybe",
		"s3://mail?path_style=yes",
		"s3://mail?unknown=1",
		"s3://key:secret@mail",
		"s3://mail/a//b",
		"s3://mail/a/../b",
		"s3://mail/a b",
		"s3://mail#frag",
	} {
		if _, err := parseURL(u); !errors.Is(err, errURL) {
			t.Errorf("parseURL(%q) = %v, want errURL", u, err)
		}
	}
}
