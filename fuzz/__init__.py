"""Fuzz targets for atheris (see README.rst); not part of the package."""
