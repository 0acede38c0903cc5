"""The activities of each stage, seeded as checklist items when an engagement is created.

From DOMAIN.md and seed 001 chapter 3; (English, Chinese, required).
"""

from .models import StageKey

ACTIVITIES: dict[str, list[tuple[str, str, bool]]] = {
    StageKey.SURVEY: [
        ("Migration consulting: compute selection, cloud features, process",
         "迁移咨询评估:算力选型、云特性、流程", True),
        ("Current-system survey: operator coverage, third-party acceleration libraries, performance baseline",
         "现状调研:算子支持度、三方加速库、性能基线", True),
        ("Information collection: servers, model versions, architecture, deployment topology",
         "信息/需求梳理和收集:服务器、模型版本、架构、部署拓扑", True),
        ("Overall analysis: business, model, technical, data, cost", "整体分析:业务、模型、技术、数据、成本", True),
        ("Risk assessment recorded in the risk register", "风险问题评估(登记风险清单)", True),
        ("Migration strategy agreed", "迁移策略评估", True),
    ],
    StageKey.PLAN: [
        ("Migration plan written (framework, data set, source code, hardware, software versions)",
         "迁移规划:框架、数据集、源码、硬件、软件版本", True),
        ("Resources planned", "资源规划", True),
        ("Acceptance criteria agreed (loss-curve error, evaluation score, performance baseline)",
         "验收标准确认(Loss 曲线误差、评测分数、性能基线)", True),
        ("Evaluation method defined", "评测方法确定", True),
        ("Inference plan: framework, model (ONNX), targets", "推理方案:框架、模型(ONNX)、目标", False),
    ],
    StageKey.ENV_SETUP: [
        ("NPU driver and firmware installed", "安装 NPU 驱动和固件", True),
        ("CANN toolkit installed", "安装 CANN 开发套件(Toolkit)", True),
        ("Kernels (binary operator package) installed", "安装二进制算子包(Kernels)", True),
        ("NNAL / ATB installed", "安装 NNAL / ATB 加速库", False),
        ("Framework installed (PyTorch + torch_npu, MindSpore, or MindSpeed + Megatron-LM)",
         "安装深度学习框架(PyTorch + torch_npu、MindSpore 或 MindSpeed + Megatron-LM)", True),
        ("MindIE container prepared", "准备 MindIE 推理镜像", False),
        ("Environment verified (npu-smi info, versions recorded)", "环境验证(npu-smi info,记录版本)", True),
    ],
    StageKey.TRAINING_ADAPTATION: [
        ("Migration analysis with the PyTorch analysis tool", "使用 PyTorch 分析工具进行迁移分析", True),
        ("Script migrated (automatic, tool or manual)", "脚本迁移(自动迁移、工具迁移或手工迁移)", True),
        ("Environment variables configured", "配置环境变量", True),
        ("Mixed precision configured", "配置混合精度", False),
        ("Feature-value detection configured (NPU_ASD_ENABLE)", "配置特征值检测(NPU_ASD_ENABLE)", False),
        ("Training runs on NPU: parameters update, weights are saved", "NPU 上训练跑通:参数更新、权重保存", True),
        ("Model export (ONNX -> ATC -> .om)", "模型保存与导出(ONNX -> ATC -> .om)", False),
    ],
    StageKey.TRAINING_TUNING: [
        ("Precision tuning: data cleaning, hyper-parameters, mixed precision",
         "精度调优:数据清洗、超参配置、混合精度", True),
        ("Loss curve compared with the GPU reference", "与 GPU 基准对比 Loss 曲线", True),
        ("Performance tuning: parallel strategy (TP/PP/DP/ZeRO, recompute)",
         "性能调优:并行策略(TP/PP/DP/ZeRO、重计算)", False),
        ("Data-loading I/O optimised", "IO 优化", False),
        ("Fused operators and stream syncs reviewed", "NPU 亲和适配:融合算子、去除流同步", False),
        ("Memory settings tuned (PYTORCH_NPU_ALLOC_CONF, HCCL_BUFFSIZE)",
         "内存优化(PYTORCH_NPU_ALLOC_CONF、HCCL_BUFFSIZE)", False),
        ("Performance baseline met", "达到性能基线", True),
    ],
    StageKey.INFERENCE_MIGRATION: [
        ("Small models converted with ATC or MindSpore Lite", "小模型通过 ATC 或 MindSpore Lite 转换", False),
        ("Large models deployed on MindIE LLM", "大模型部署到 MindIE LLM", False),
        ("Quantisation chosen (float16/bfloat16, W8A8/W8A16, KV-cache int8)",
         "量化方案(float16/bfloat16、W8A8/W8A16、KV Cache int8)", False),
        ("Inference service runs and answers correctly", "推理服务运行并输出正确", True),
        ("Inference benchmark recorded", "记录推理性能测试结果", True),
    ],
    StageKey.INFERENCE_TUNING: [
        ("Precision: AIPP/DVPP configuration, operator comparison", "推理精度优化:AIPP/DVPP 配置、算子比对", False),
        ("Performance: AOE auto-tuning", "推理性能优化:AOE 自动调优", False),
        ("Compression with AMCT", "AMCT 模型压缩", False),
        ("Profiling analysed", "Profiling 性能数据分析", True),
        ("Inference targets met", "达到推理性能目标", True),
    ],
}
