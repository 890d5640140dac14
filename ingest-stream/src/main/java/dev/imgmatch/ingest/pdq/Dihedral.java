package dev.imgmatch.ingest.pdq;

/**
 * The 8 symmetries of the square, in the order of {@code PreparedImage.pdqDihedral} and of the reference
 * implementation's outputs, with the reference's meaning (checked against its test images
 * {@code bridge-1..8}): ROT90 is a quarter turn counter-clockwise (EXIF orientation 8 applied), ROT270
 * clockwise (EXIF 6); FLIP_X mirrors across the horizontal axis, i.e. top and bottom swap (EXIF 4); FLIP_Y
 * mirrors left and right (EXIF 2); TRANSPOSE ("flip plus 1", EXIF 5) and TRANSVERSE ("flip minus 1", EXIF 7)
 * mirror across the diagonals.
 */
public enum Dihedral {
  IDENTITY,
  ROT90,
  ROT180,
  ROT270,
  FLIP_X,
  FLIP_Y,
  TRANSPOSE,
  TRANSVERSE
}
