# SPDX-License-Identifier: GPL-2.0
"""mmwb: the mm series workbench (base tree, series, kernel, VM, report)."""
