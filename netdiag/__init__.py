"""netdiag: why can't this DICOM-Mail gateway reach its vendor's mail infrastructure?"""

__version__ = "0.1.0"
