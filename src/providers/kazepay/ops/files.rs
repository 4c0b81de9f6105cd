//! `fileUpload` and the image checks KYC shares: PNG and JPEG only, recognised by content.

use serde_json::Value;

use super::{AnswerFields, Context, fields};
use crate::providers::fields::Fields;
use crate::providers::kazepay::settings::ErrorKind;
use crate::providers::kazepay::wire::OpError;
use crate::world::{UploadedFile, World, ids};

/// The image types KazePay accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Png,
    Jpeg,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
        }
    }
}

/// The image type from the file's first bytes (names and declared types are not trusted).
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else {
        None
    }
}

/// Records an image for `owner`; returns its file id (a UUID, as in the docs).
pub fn store(world: &mut World, media: MediaType, size: usize, owner: &str) -> String {
    let id = ids::uuid(world.rng());
    let file = UploadedFile {
        id: id.clone(),
        media_type: media.mime().to_owned(),
        size,
        owner: owner.to_owned(),
        uploaded_at: world.now(),
    };
    world.files.insert(id.clone(), file);
    id
}

/// `fileUpload`: `{email, mobileNumber, mobilePrefix}` plus the file part → `{fileId}`.
pub fn upload(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let email = body.text("email", 1, 128)?;
    super::mobile(body)?;
    let Some(bytes) = context.upload else {
        return Err(OpError::field(
            "file",
            "is required: send multipart/form-data with a `file` part",
        ));
    };
    let media = sniff(bytes).ok_or_else(|| OpError::new(ErrorKind::FileType).with_field("file"))?;
    let id = store(world, media, bytes.len(), email);
    Ok(fields([("fileId", Value::String(id))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(MediaType::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }
}
