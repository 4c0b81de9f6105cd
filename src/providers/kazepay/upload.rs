//! The multipart layout of `fileUpload` (KazePay's docs do not give one): a `request` part
//! holding the usual JSON envelope and a `file` part holding the image. The signature covers
//! the envelope's plaintext body only, as for every other apiCode.

use std::convert::Infallible;

use bytes::Bytes;

/// The two parts of an upload.
#[derive(Debug)]
pub struct Upload {
    pub envelope: Bytes,
    pub file: Option<Bytes>,
}

/// Whether a Content-Type announces multipart/form-data.
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

/// Splits a multipart/form-data body into its `request` and `file` parts.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Upload, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| format!("multipart: {e}"))?;
    let stream =
        futures_util::stream::iter([Ok::<Bytes, Infallible>(Bytes::copy_from_slice(body))]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    // The whole body is already in memory, so every future below is ready at once.
    futures_executor::block_on(async {
        let (mut envelope, mut file) = (None, None);
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("multipart: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("multipart part `{name}`: {e}"))?;
            match name.as_str() {
                "request" => envelope = Some(bytes),
                "file" => file = Some(bytes),
                other => {
                    return Err(format!(
                        "unexpected multipart part `{other}`; send `request` and `file`"
                    ));
                }
            }
        }
        let envelope = envelope.ok_or("the multipart body has no `request` part")?;
        Ok(Upload { envelope, file })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, content) in parts {
            out.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                    .as_bytes(),
            );
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    #[test]
    fn reads_the_request_and_file_parts() {
        let upload = parse(
            "multipart/form-data; boundary=XyZ",
            &body(&[("request", b"{}"), ("file", b"\x89PNG")]),
        )
        .unwrap();
        assert_eq!(
            (&upload.envelope[..], upload.file.as_deref()),
            (&b"{}"[..], Some(&b"\x89PNG"[..]))
        );
        assert!(
            parse(
                "multipart/form-data; boundary=XyZ",
                &body(&[("file", b"x")])
            )
            .unwrap_err()
            .contains("no `request`")
        );
        assert!(
            parse(
                "multipart/form-data; boundary=XyZ",
                &body(&[("other", b"x")])
            )
            .unwrap_err()
            .contains("unexpected")
        );
        assert!(parse("multipart/form-data", b"").is_err());
        assert!(is_multipart(Some("Multipart/Form-Data; boundary=a")));
        assert!(!is_multipart(Some("application/json")));
    }
}
