"""Loaders for lab formats (the only code that knows them): NWB, MATLAB, npz, netCDF."""
