//===--- Pipeline.swift - STUB: runs the pass pipeline the flags ask for ---===//
import SparrowIR

func optimize(_ module: inout Module, _ o: PipelineOptions, file: String) throws {}
