import SparrowIR
