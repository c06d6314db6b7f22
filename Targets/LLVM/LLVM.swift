//===--- LLVM.swift - STUB: the LLVM target ---===//
import SparrowIR
