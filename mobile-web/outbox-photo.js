// Photos are downscaled on the phone before they are queued: a phone camera's
// 12 MP JPEG is 3–5 MB, which fills the phone's storage while offline and
// takes minutes on a weak mobile link, and the server keeps at most 1600 px
// anyway (server/src/photos/process.rs). Iris captures never come here: the
// iris engine needs every pixel.

const MAX_SIDE = 1600;
const QUALITY = 0.85;

/**
 * `photo` with its longest side at most 1600 px, as a JPEG; the original
 * when it is already small, or when the browser cannot decode or re-encode
 * it (the server then does the work: nothing is lost).
 */
export async function downscalePhoto(photo) {
  if (!photo || typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return photo;
  let bitmap;
  try {
    // 'from-image' applies the EXIF orientation, which the re-encoded JPEG
    // (no metadata, so no GPS either) could no longer tell the server.
    bitmap = await createImageBitmap(photo, { imageOrientation: 'from-image' });
    const scale = MAX_SIDE / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) return photo;
    const width = Math.round(bitmap.width * scale);
    const height = Math.round(bitmap.height * scale);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    return await canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  } catch (err) {
    console.warn('photo kept at full size', err);
    return photo;
  } finally {
    bitmap?.close();
  }
}
